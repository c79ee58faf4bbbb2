import { createDatabase, Database, DatabaseSettings } from '@app/storage';
import type { Migration } from 'kysely/migration';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/**
 * The PostgreSQL server the tests use: TEST_DATABASE_URL, or the throwaway cluster the jest
 * global setup started (test/postgres.global-setup.ts). Fails with one line when there is none.
 */
function testServerUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    throw new Error(
      process.env.TEST_DATABASE_UNAVAILABLE ??
        'TEST_DATABASE_URL is not set and no test cluster was started',
    );
  }
  return url;
}

export interface TestDatabase {
  /** A fresh, empty database of its own on the test server. */
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(
  serverUrl: string,
  run: (client: Client) => Promise<T>,
): Promise<T> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/**
 * A new empty database, so that each suite starts from nothing, as a fresh deployment does: on
 * the test server, or on `serverUrl` (a PostgreSQL server of the suite's own).
 */
export async function createTestDatabase(
  serverUrl = testServerUrl(),
): Promise<TestDatabase> {
  const url = reserveTestDatabaseUrl(serverUrl);
  return { url, drop: await createReservedDatabase(url) };
}

/** Reserved database URLs, each with the URL of its server. */
const reserved = new Map<string, string>();

/**
 * The URL of a database that does not exist yet: for a config, which is built synchronously.
 * `createTestApp` creates it (createReservedDatabase) before the app boots.
 */
export function reserveTestDatabaseUrl(serverUrl = testServerUrl()): string {
  const url = new URL(serverUrl);
  url.pathname = `/test_${randomBytes(6).toString('hex')}`;
  reserved.set(url.toString(), serverUrl);
  return url.toString();
}

/** Creates a reserved database; resolves with what drops it. Fails for a URL not reserved here. */
export async function createReservedDatabase(
  url: string,
): Promise<() => Promise<void>> {
  const serverUrl = reserved.get(url);
  if (serverUrl === undefined) throw new Error(`not a reserved test database`);
  reserved.delete(url);
  const name = new URL(url).pathname.slice(1);
  await admin(serverUrl, (client) => client.query(`create database ${name}`));
  return () =>
    admin(serverUrl, (client) =>
      client.query(`drop database if exists ${name} with (force)`),
    ).then(() => undefined);
}

export function isReservedTestDatabase(url: string): boolean {
  return reserved.has(url);
}

/** Runs one query on a test database, to look at or change what a test cannot through the API. */
export async function queryTestDatabase<
  T extends Record<string, unknown> = Record<string, unknown>,
>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

export interface MigratedTestDatabase<DB = unknown> extends TestDatabase {
  database: Database<DB>;
  /** Closes the pool and drops the database. */
  close(): Promise<void>;
}

/** A fresh database with an app's migrations applied, and a pool to it, as the app would have. */
export async function migratedTestDatabase<DB = unknown>(
  migrations: Record<string, Migration>,
): Promise<MigratedTestDatabase<DB>> {
  const created = await createTestDatabase();
  const database = testDatabaseClient<DB>(created.url, migrations);
  await database.migrate();
  return {
    ...created,
    database,
    async close() {
      await database.close();
      await created.drop();
    },
  };
}

/** A pool to a test database with the app's defaults. */
export function testDatabaseClient<DB = unknown>(
  url: string,
  migrations: Record<string, Migration>,
  settings: Partial<DatabaseSettings> = {},
): Database<DB> {
  return createDatabase<DB>(
    'test',
    {
      DATABASE_URL: url,
      DATABASE_MIGRATION_URL: '',
      DATABASE_POOLER: 'none',
      DATABASE_POOL_MAX: 10,
      DATABASE_CONNECT_TIMEOUT_MS: 2000,
      DATABASE_STATEMENT_TIMEOUT_MS: 5000,
      DATABASE_MIGRATE_AT_START: 'true',
      ...settings,
    },
    migrations,
  );
}
