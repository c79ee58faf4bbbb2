'use strict';
// Preloaded into every Node process of a build (NODE_OPTIONS=--require): records each path the
// process looks at through node:fs, and the script it runs, into TRACE_FILES_DIR/<pid>.txt. A
// build that finds a file missing has looked for it, so the trace names what the build stage
// lacks, including files whose absence changes the build without failing it (rspack.config.js).
const fs = require('node:fs');
const { syncBuiltinESMExports } = require('node:module');
const { join, resolve } = require('node:path');
const { fileURLToPath } = require('node:url');

const dir = process.env.TRACE_FILES_DIR;
const seen = new Set();
const record = (path) => {
  try {
    if (typeof path === 'string') seen.add(resolve(path));
    else if (path instanceof URL && path.protocol === 'file:')
      seen.add(fileURLToPath(path));
    else if (Buffer.isBuffer(path)) seen.add(resolve(path.toString()));
  } catch {
    // A path argument we cannot read is not one a build looks for.
  }
};

if (dir) {
  // The entry script: Node reports a missing one before any fs call (node scripts/x.cjs).
  if (process.argv[1]) record(process.argv[1]);
  const wrap = (target, name) => {
    const original = target[name];
    if (typeof original !== 'function') return;
    const wrapped = function (path, ...rest) {
      record(path);
      return original.call(this, path, ...rest);
    };
    Object.assign(wrapped, original);
    target[name] = wrapped;
  };
  const names = [
    'access',
    'accessSync',
    'exists',
    'existsSync',
    'lstat',
    'lstatSync',
    'open',
    'openSync',
    'opendir',
    'opendirSync',
    'readdir',
    'readdirSync',
    'readFile',
    'readFileSync',
    'realpath',
    'realpathSync',
    'stat',
    'statSync',
  ];
  for (const name of names) wrap(fs, name);
  for (const name of names) wrap(fs.promises, name);
  // ESM code that imported { existsSync } from 'fs' sees the wrapped functions too.
  syncBuiltinESMExports();
  process.on('exit', () => {
    fs.writeFileSync(join(dir, `${process.pid}.txt`), [...seen].join('\n'));
  });
}
