'use strict';
// A throwaway PostgreSQL cluster from the machine's own binaries, for the tests, the benchmark and
// `npm run start:postgres`. PostgreSQL refuses to run as root, so as root it runs as `postgres`.
const { execFileSync, spawn } = require('node:child_process');
const {
  existsSync,
  mkdtempSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  chownSync,
  chmodSync,
} = require('node:fs');
const { createConnection, createServer } = require('node:net');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const PASSWORD = 'local-only';
const CANDIDATE_DIRS = [17, 16, 15, 14, 13].map(
  (version) => `/usr/lib/postgresql/${version}/bin`,
);

function binDir() {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  return CANDIDATE_DIRS.find((dir) => existsSync(join(dir, 'initdb')));
}

const MISSING =
  'PostgreSQL binaries not found (looked in /usr/lib/postgresql/*/bin and $PG_BIN): install them with "apt-get install -y postgresql", or set TEST_DATABASE_URL to a server you own.';

function asOwner(user, command, args, options = {}) {
  return user
    ? execFileSync('runuser', ['-u', user, '--', command, ...args], options)
    : execFileSync(command, args, options);
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForPort(port, child, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error('postgres exited at start');
    const open = await new Promise((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline)
      throw new Error('postgres did not open its port');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The port opens before the server takes connections ("the database system is starting up"): a
 * cluster is started once a connection succeeds.
 */
async function waitForConnections(url, child, deadlineMs) {
  const { Client } = require('pg');
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error('postgres exited at start');
    const client = new Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * Runs initdb; when it fails, says why in its own words and what to do about it. As root, the
 * cluster belongs to `postgres`, who must be able to reach `dataDir`: a checkout under a mode-700
 * home directory is the usual reason it cannot.
 */
function initCluster(bin, owner, dataDir, durable) {
  // Beside no other file of the cluster, so that initdb reports the cluster's own directory when
  // it is the one `postgres` cannot reach.
  const pwdir = mkdtempSync(join(tmpdir(), 'pg-pw-'));
  chmodSync(pwdir, 0o755);
  const pwfile = join(pwdir, 'password');
  writeFileSync(pwfile, PASSWORD, { mode: 0o644 });
  try {
    asOwner(
      owner,
      join(bin, 'initdb'),
      [
        '-D',
        dataDir,
        '-U',
        'postgres',
        '--pwfile',
        pwfile,
        '--auth-host=scram-sha-256',
        '--auth-local=trust',
        '-E',
        'UTF8',
        '--locale=C',
        // A kept cluster is flushed to disk at the end of initdb, as PostgreSQL does by default.
        ...(durable ? [] : ['--no-sync']),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (error) {
    const said = String(error.stderr ?? '').trim() || error.message;
    const wayOut = owner
      ? `\nAs root, PostgreSQL runs as the user "${owner}", who must be able to enter every directory above ${dataDir}. ` +
        'Keep the data elsewhere (POSTGRES_DATA_DIR=/var/tmp/users-orders-postgres npm run start:postgres), ' +
        'run from a checkout outside a private home directory, give others search permission on the directories above it (chmod o+x), ' +
        'or run as a user other than root.'
      : '';
    throw new Error(`initdb could not create the cluster: ${said}${wayOut}`);
  } finally {
    rmSync(pwdir, { recursive: true, force: true });
  }
}

/**
 * Starts a cluster in `dir` (a new temp dir unless given; kept and reused when given) on a free
 * loopback port. Resolves with its superuser URL and a stop.
 *
 * `durable`: PostgreSQL's own defaults (fsync, synchronous_commit, full_page_writes on), so that a
 * crash of the machine cannot corrupt the data. It is the default for a kept cluster (`dir`
 * given); a throwaway one turns them off for speed unless asked. `settings` adds `-c` settings
 * (`{ max_connections: 40 }`, `{ shared_preload_libraries: 'pg_stat_statements' }`).
 * `unref`: the server does not keep the starting process alive, for a caller that stops it when
 * its own process exits (stryker.config.mjs) rather than with `stop`.
 */
async function startCluster({
  dir,
  port,
  durable = Boolean(dir),
  settings = {},
  unref = false,
} = {}) {
  const bin = binDir();
  if (!bin) throw new Error(MISSING);
  const owner =
    process.getuid && process.getuid() === 0 ? 'postgres' : undefined;
  const dataDir = dir ?? mkdtempSync(join(tmpdir(), 'pg-'));
  mkdirSync(dataDir, { recursive: true });
  if (owner) {
    const uid = Number(execFileSync('id', ['-u', owner]).toString());
    const gid = Number(execFileSync('id', ['-g', owner]).toString());
    chownSync(dataDir, uid, gid);
  }
  if (!existsSync(join(dataDir, 'PG_VERSION')))
    initCluster(bin, owner, dataDir, durable);
  const listenPort = port ?? (await freePort());
  const fast = durable
    ? {}
    : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' };
  const chosen = {
    listen_addresses: '127.0.0.1',
    max_connections: 300,
    log_min_messages: 'fatal',
    ...fast,
    ...settings,
  };
  const args = [
    '-D',
    dataDir,
    '-p',
    String(listenPort),
    '-k',
    dataDir,
    ...Object.entries(chosen).flatMap(([name, value]) => [
      '-c',
      `${name}=${value}`,
    ]),
  ];
  const command = join(bin, 'postgres');
  const child = owner
    ? spawn('runuser', ['-u', owner, '--', command, ...args], {
        stdio: 'ignore',
      })
    : spawn(command, args, { stdio: 'ignore' });
  await waitForPort(listenPort, child, 30_000);
  const url = `postgres://postgres:${PASSWORD}@127.0.0.1:${listenPort}/postgres`;
  await waitForConnections(url, child, 30_000);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  if (unref) child.unref();
  return {
    url,
    port: listenPort,
    dataDir,
    pid: child.pid,
    async stop({ keepData = Boolean(dir) } = {}) {
      if (child.exitCode === null && child.signalCode === null) {
        // SIGINT to the postmaster itself is PostgreSQL's fast shutdown; runuser, in between,
        // does not pass it on. The postmaster's pid is the first line of postmaster.pid.
        const postmaster = readPid(join(dataDir, 'postmaster.pid'));
        if (postmaster) process.kill(postmaster, 'SIGINT');
        else child.kill('SIGINT');
        const stopped = await Promise.race([
          exited.then(() => true),
          new Promise((resolve) => setTimeout(resolve, 15_000, false)),
        ]);
        if (!stopped) {
          if (postmaster) process.kill(postmaster, 'SIGKILL');
          child.kill('SIGKILL');
          await exited;
        }
      }
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function readPid(file) {
  try {
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** `postgres://.../postgres` → the same server, database `name`. */
function databaseUrl(serverUrl, name) {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

module.exports = { startCluster, databaseUrl, MISSING };
