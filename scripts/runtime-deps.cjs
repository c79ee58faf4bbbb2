'use strict';
// What the runtime image needs from node_modules. The bundles carry their dependencies inside;
// at run time they load from node_modules only what rspack.config.js leaves external, and what
// bundled code still asks Node for itself (`createRequire(import.meta.url)` in @nestjs/mapped-types
// loads class-validator; @nestjs/terminus tries @nestjs/swagger). Both show in the bundles as
// `require("name")`. From those roots this follows package-lock.json the way Node resolves in the
// installed tree, and removes every other package from an `npm ci --omit=dev` install, and from
// the packages kept, the files Node never loads: type declarations and source maps.
//
//   node scripts/runtime-deps.cjs prune [dir]   prunes dir/node_modules, for dir/dist/apps/*
//   node scripts/runtime-deps.cjs list [dir]    prints the packages kept, one lock path a line
const { existsSync, readdirSync, readFileSync, rmSync } = require('node:fs');
const { isBuiltin } = require('node:module');
const { join, relative, resolve } = require('node:path');

/** Whether a package name is one of rspack.config.js's RUNTIME entries (a name or a scope/). */
function matches(patterns, name) {
  return patterns.some((pattern) =>
    pattern.endsWith('/') ? name.startsWith(pattern) : name === pattern,
  );
}

/** The package a request names: `@scope/name/file.js` → `@scope/name`. */
function packageOf(request) {
  const parts = request.split('/');
  return parts.slice(0, request.startsWith('@') ? 2 : 1).join('/');
}

/**
 * The packages the bundles in `folder` (main.js and its chunks) require at run time: what their
 * code, not their comments, passes to require(), less Node's own modules and the optional
 * packages that are looked for and done without (rspack.config.js OPTIONAL).
 */
function bundleRequires(folder, optional) {
  const code = readdirSync(folder)
    .filter((file) => file.endsWith('.js'))
    .flatMap((file) => readFileSync(join(folder, file), 'utf8').split('\n'))
    .filter((line) => !/^\s*(\*|\/\/)/.test(line))
    .join('\n');
  const requests = [...code.matchAll(/require\(["']([^"'.][^"']*)["']\)/g)]
    .map(([, request]) => request)
    .filter((request) => !isBuiltin(request))
    .filter((request) => !matches(optional, packageOf(request)));
  return [...new Set(requests.map(packageOf))].sort();
}

/**
 * The roots of the closure: what the bundles require, and the production dependencies rspack
 * leaves external (RUNTIME), in case one is loaded some other way. Each must be a production
 * dependency: `npm ci --omit=dev` installs nothing else.
 */
function runtimeRoots(packageJson, runtime, required = []) {
  const dependencies = Object.keys(packageJson.dependencies ?? {});
  const undeclared = required.filter((name) => !dependencies.includes(name));
  if (undeclared.length > 0)
    throw new Error(
      `the bundles require ${undeclared.join(', ')}, not among package.json's dependencies`,
    );
  return [
    ...new Set([
      ...required,
      ...dependencies.filter((name) => matches(runtime, name)),
    ]),
  ].sort();
}

/** Where Node finds `name` from the package installed at `from` ('' for the app), in the lock. */
function resolveIn(packages, from, name) {
  let dir = from;
  for (;;) {
    const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!dir) return undefined;
    const parent = dir.lastIndexOf('/node_modules/');
    dir = parent === -1 ? '' : dir.slice(0, parent);
  }
}

/**
 * The lock paths (node_modules/a, node_modules/a/node_modules/b) of the roots and everything they
 * depend on, dev packages excepted (`npm ci --omit=dev` does not install them).
 */
function closure(lock, roots) {
  const packages = lock.packages;
  const kept = new Set();
  const visit = (path, requiredBy) => {
    if (kept.has(path)) return;
    const entry = packages[path];
    if (!entry || entry.dev)
      throw new Error(
        `${path} (needed by ${requiredBy}) is not a production package in package-lock.json`,
      );
    kept.add(path);
    // Optional peers are loaded only by code that opts in, and the bundles' own requires are
    // roots: @nestjs/swagger's optional peer typescript, for one, serves its build-time plugin.
    const optionalPeer = (name) =>
      entry.peerDependenciesMeta?.[name]?.optional === true;
    const names = Object.keys({
      ...entry.dependencies,
      ...entry.optionalDependencies,
      ...entry.peerDependencies,
    }).filter((name) => !optionalPeer(name));
    for (const name of names) {
      const found = resolveIn(packages, path, name);
      if (!found || packages[found].dev) {
        // Optional dependencies may be absent (another platform's binary, say).
        if (name in (entry.optionalDependencies ?? {})) continue;
        throw new Error(`${path} needs ${name}, which package-lock.json lacks`);
      }
      visit(found, path);
    }
  };
  for (const root of roots) visit(`node_modules/${root}`, 'the bundles');
  return kept;
}

/**
 * The closure for the project in `dir`: its package.json, package-lock.json, rspack.config.js,
 * and the bundles built in dist/apps/*.
 */
function runtimePackages(dir = process.cwd()) {
  const read = (file) => JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const { RUNTIME, OPTIONAL } = require(resolve(dir, 'rspack.config.js'));
  const apps = join(dir, 'dist', 'apps');
  if (!existsSync(apps))
    throw new Error(`no bundles in ${apps}: run npm run build first`);
  const required = readdirSync(apps).flatMap((app) =>
    bundleRequires(join(apps, app), OPTIONAL),
  );
  return closure(
    read('package-lock.json'),
    runtimeRoots(read('package.json'), RUNTIME, [...new Set(required)]),
  );
}

// Type declarations, and source maps of JavaScript, CSS or declarations: Node never loads them.
const NEVER_LOADED = /\.d\.[cm]?ts$|\.([cm]?js|css|d\.[cm]?ts)\.map$/;

function removeNeverLoaded(dir) {
  let removed = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules')
      removed += removeNeverLoaded(path);
    else if (entry.isFile() && NEVER_LOADED.test(entry.name)) {
      rmSync(path);
      removed++;
    }
  }
  return removed;
}

/**
 * Removes from dir/node_modules every package not kept, npm's bin links and hidden lock, and from
 * the packages kept the files Node never loads.
 */
function prune(dir, kept) {
  const removed = [];
  const walk = (modules) => {
    if (!existsSync(modules)) return;
    for (const entry of readdirSync(modules)) {
      const path = join(modules, entry);
      if (entry === '.bin' || entry === '.package-lock.json') {
        rmSync(path, { recursive: true, force: true });
      } else if (entry.startsWith('@')) {
        for (const scoped of readdirSync(path))
          visitPackage(join(path, scoped));
        if (readdirSync(path).length === 0) rmSync(path, { recursive: true });
      } else if (!entry.startsWith('.')) {
        visitPackage(path);
      }
    }
  };
  const visitPackage = (path) => {
    const lockPath = relative(dir, path).split('\\').join('/');
    if (!kept.has(lockPath)) {
      rmSync(path, { recursive: true, force: true });
      removed.push(lockPath);
    } else {
      trimmed += removeNeverLoaded(path);
      walk(join(path, 'node_modules'));
    }
  };
  let trimmed = 0;
  walk(join(dir, 'node_modules'));
  return { removed, trimmed };
}

module.exports = {
  bundleRequires,
  closure,
  runtimeRoots,
  runtimePackages,
  prune,
  matches,
};

if (require.main === module) {
  const [command, dir = process.cwd()] = process.argv.slice(2);
  const kept = runtimePackages(dir);
  if (command === 'list') {
    console.log([...kept].sort().join('\n'));
  } else if (command === 'prune') {
    const { removed, trimmed } = prune(dir, kept);
    console.log(
      `kept the ${kept.size} packages the bundles load at run time, removed ${removed.length} others and ${trimmed} declaration and source map files`,
    );
  } else {
    console.error('usage: node scripts/runtime-deps.cjs prune|list [dir]');
    process.exit(2);
  }
}
