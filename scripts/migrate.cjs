'use strict';
// npm run migrate -- <service>: applies the service's pending migrations to its DATABASE_URL and
// exits, for a release step; the built app does the work (`node dist/apps/<app>/main.js migrate`).
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');
const { ROOT, services, servicesNamed } = require('./services.cjs');

const wanted = process.argv.slice(2);
if (wanted.length !== 1) {
  console.error(
    `usage: DATABASE_URL=postgres://... npm run migrate -- ${services()
      .map((service) => service.name)
      .join('|')}`,
  );
  process.exit(2);
}
const [app] = servicesNamed(wanted);
const main = join(ROOT, 'dist', 'apps', app, 'main.js');
const run = spawnSync(process.execPath, [main, 'migrate'], {
  stdio: 'inherit',
});
process.exit(run.status ?? 1);
