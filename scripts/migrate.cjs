'use strict';
// npm run migrate -- users|orders: applies the app's pending migrations to its DATABASE_URL and
// exits, for a release step; the built app does the work (`node dist/apps/<app>/main.js migrate`).
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

const app = process.argv[2];
if (app !== 'users' && app !== 'orders') {
  console.error(
    'usage: DATABASE_URL=postgres://... npm run migrate -- users|orders',
  );
  process.exit(2);
}
const main = join(__dirname, '..', 'dist', 'apps', app, 'main.js');
const run = spawnSync(process.execPath, [main, 'migrate'], {
  stdio: 'inherit',
});
process.exit(run.status ?? 1);
