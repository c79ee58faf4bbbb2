'use strict';
// npm run start:postgres: every built service on a local PostgreSQL cluster kept in
// .data/postgres, or POSTGRES_DATA_DIR (created on first run from the machine's PostgreSQL
// binaries, with PostgreSQL's durable defaults), a database each. Ctrl-C stops the services and
// the cluster; the data stays for the next run.
const { spawn } = require('node:child_process');
const { join } = require('node:path');
const { Client } = require('pg');
const { startCluster, databaseUrl } = require('./postgres-cluster.cjs');
const { ROOT, servicesNamed } = require('./services.cjs');

async function ensureDatabase(serverUrl, name) {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  const { rowCount } = await client.query(
    'select 1 from pg_database where datname = $1',
    [name],
  );
  if (rowCount === 0) await client.query(`create database ${name}`);
  await client.end();
}

async function main() {
  const dir = process.env.POSTGRES_DATA_DIR || join(ROOT, '.data', 'postgres');
  const cluster = await startCluster({
    dir,
    port: Number(process.env.PGPORT ?? 54329),
  });
  console.log(`PostgreSQL on 127.0.0.1:${cluster.port} (data in ${dir})`);
  const names = servicesNamed([]);
  for (const name of names) await ensureDatabase(cluster.url, name);
  const apps = names.map((app) =>
    spawn(process.execPath, [join(ROOT, 'dist', 'apps', app, 'main.js')], {
      stdio: 'inherit',
      env: { ...process.env, DATABASE_URL: databaseUrl(cluster.url, app) },
    }),
  );
  const stop = async () => {
    for (const app of apps) app.kill('SIGTERM');
    await Promise.all(
      apps.map((app) => new Promise((resolve) => app.once('exit', resolve))),
    );
    await cluster.stop({ keepData: true });
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
