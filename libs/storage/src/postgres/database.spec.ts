import {
  createTestDatabase,
  startTcpProxy,
  queryTestDatabase,
  testDatabaseClient,
  TestDatabase,
} from '@app/testing';
import { Kysely, sql } from 'kysely';
import { createServer, Server, Socket } from 'node:net';
import { Database } from './database';
import { StoreUnavailableError } from './errors';

const MIGRATIONS = {
  '0001-things': {
    // oxlint-disable-next-line typescript/no-explicit-any -- migrations take Kysely<any>, as Kysely advises
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('things')
        .addColumn('id', 'integer', (column) => column.primaryKey())
        .execute();
      // Slow enough that a second migrator arrives while the first holds the lock.
      await sql`select pg_sleep(0.3)`.execute(db);
    },
  },
  '0002-seed-things': {
    // oxlint-disable-next-line typescript/no-explicit-any -- migrations take Kysely<any>, as Kysely advises
    async up(db: Kysely<any>) {
      await db.insertInto('things').values({ id: 1 }).execute();
    },
  },
};

/** A TCP server that accepts connections and never answers: a database that hangs. */
async function blackHole(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `postgres://app:secret-password@127.0.0.1:${port}/app`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('Database', () => {
  let created: TestDatabase;
  const opened: Database[] = [];
  const open = (...args: Parameters<typeof testDatabaseClient>) => {
    const database = testDatabaseClient(...args);
    opened.push(database);
    return database;
  };

  beforeEach(async () => {
    created = await createTestDatabase();
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((database) => database.close()));
    await created.drop();
  });

  it('applies migrations once when two replicas start together', async () => {
    const [first, second] = await Promise.all([
      open(created.url, MIGRATIONS).migrate(),
      open(created.url, MIGRATIONS).migrate(),
    ]);
    expect([first, second].sort((a, b) => b.length - a.length)).toEqual([
      ['0001-things', '0002-seed-things'],
      [],
    ]);
    await expect(
      queryTestDatabase(created.url, 'select id from things'),
    ).resolves.toEqual([{ id: 1 }]);
  });

  it('never inserts the seed rows again, even after they were deleted', async () => {
    await open(created.url, MIGRATIONS).migrate();
    await queryTestDatabase(created.url, 'delete from things');
    await expect(open(created.url, MIGRATIONS).migrate()).resolves.toEqual([]);
    await expect(
      queryTestDatabase(created.url, 'select id from things'),
    ).resolves.toEqual([]);
  });

  it('reports ready once migrated, and the reason while it cannot connect', async () => {
    const database = open(created.url, MIGRATIONS);
    await expect(database.status()).resolves.toEqual({
      up: false,
      detail: 'not connected yet',
    });
    await database.start();
    await expect(database.status()).resolves.toEqual({
      up: true,
      detail: 'connected',
    });

    const unreachable = open(
      'postgres://app:secret-password@127.0.0.1:1/app',
      MIGRATIONS,
    );
    void unreachable.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const status = await unreachable.status();
    expect(status.up).toBe(false);
    expect(status.detail).toMatch(/ECONNREFUSED/);
    expect(status.detail).not.toContain('secret-password');
  });

  it('keeps trying with backoff until the database appears', async () => {
    const hole = await blackHole();
    // The first attempts hang on a server that never answers and time out.
    const database = open(hole.url, MIGRATIONS, {
      DATABASE_CONNECT_TIMEOUT_MS: 200,
    });
    const started = database.start();
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(database.isPrepared).toBe(false);
    await hole.close();
    await database.close();
    await started;
  });

  it('answers StoreUnavailableError within the bound when the server never answers', async () => {
    const hole = await blackHole();
    const database = open(hole.url, MIGRATIONS, {
      DATABASE_CONNECT_TIMEOUT_MS: 300,
    });
    const began = Date.now();
    const failure = await database
      .run((db) => sql`select 1`.execute(db))
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StoreUnavailableError);
    expect(String((failure as Error).message)).not.toContain('secret-password');
    // Generous: the bound is the connect timeout, not the test's patience.
    expect(Date.now() - began).toBeLessThan(10_000);
    await hole.close();
  });

  it('answers StoreUnavailableError for a statement that runs past the timeout', async () => {
    const database = open(created.url, MIGRATIONS, {
      DATABASE_STATEMENT_TIMEOUT_MS: 200,
    });
    await expect(
      database.run((db) => sql`select pg_sleep(5)`.execute(db)),
    ).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('answers StoreUnavailableError when the connection is lost mid-query, and lives on', async () => {
    const direct = new URL(created.url);
    const proxy = await startTcpProxy({
      host: direct.hostname,
      port: Number(direct.port),
    });
    direct.port = String(proxy.port);
    const database = open(direct.toString(), MIGRATIONS);
    await database.run((db) => sql`select 1`.execute(db));
    const running = database.run((db) => sql`select pg_sleep(5)`.execute(db));
    await new Promise((resolve) => setTimeout(resolve, 200));
    // node-postgres also emits 'error' on the checked-out client: unheard, it would end the process.
    const uncaught = jest.fn();
    process.on('uncaughtException', uncaught);
    try {
      await proxy.cut();
      await expect(running).rejects.toBeInstanceOf(StoreUnavailableError);
      await new Promise((resolve) => setImmediate(resolve));
      expect(uncaught).not.toHaveBeenCalled();
      await proxy.restore();
      await expect(
        database.run((db) => sql`select 1 as one`.execute(db)),
      ).resolves.toMatchObject({ rows: [{ one: 1 }] });
    } finally {
      process.off('uncaughtException', uncaught);
      await proxy.close();
    }
  });

  it('runs a serialization failure again instead of failing the request', async () => {
    const database = open(created.url, MIGRATIONS);
    let attempts = 0;
    await expect(
      database.run(async () => {
        attempts++;
        if (attempts < 2)
          throw Object.assign(new Error('could not serialize'), {
            code: '40001',
          });
        return 'done';
      }),
    ).resolves.toBe('done');
    expect(attempts).toBe(2);
  });
});
