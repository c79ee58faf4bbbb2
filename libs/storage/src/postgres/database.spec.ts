import {
  createTestDatabase,
  eventually,
  startTcpProxy,
  queryTestDatabase,
  testDatabaseClient,
  TestDatabase,
} from '@app/testing';
import { Kysely, sql } from 'kysely';
import { createServer, Server, Socket } from 'node:net';
import { Database, ForeignDatabaseError } from './database';
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

  describe('on a server that cannot write (SQLSTATE 25006)', () => {
    const name = () => new URL(created.url).pathname.slice(1);
    // Sessions that start from now on are read-only, as on a standby or an old primary back as
    // one; sessions already open keep what they started with.
    const readOnly = (on: boolean) =>
      // From the server's own database: a session of this one could not change it back.
      queryTestDatabase(
        Object.assign(new URL(created.url), { pathname: '/postgres' }).href,
        on
          ? `alter database ${name()} set default_transaction_read_only = on`
          : `alter database ${name()} reset default_transaction_read_only`,
      );
    const insert = (database: Database, id: number) =>
      database.run((db) => sql`insert into things values (${id})`.execute(db));
    const backends = async (database: Database) =>
      (
        await database.run((db) =>
          sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db),
        )
      ).rows[0].pid;

    const closed = (...pids: number[]) =>
      eventually(
        () =>
          queryTestDatabase<{ pid: number }>(
            created.url,
            'select pid from pg_stat_activity where pid = any($1)',
            [pids],
          ),
        (rows) => rows.length === 0,
        'the connections opened on the read-only server to be closed',
      );

    beforeEach(async () => {
      await queryTestDatabase(
        created.url,
        'create table things (id integer primary key)',
      );
      await readOnly(true);
    });

    it('answers StoreUnavailableError, and the next write gets a fresh connection that may reach the primary', async () => {
      const database = open(created.url, MIGRATIONS);
      // Three connections open on the read-only server, idle in the pool.
      const opened = await Promise.all(
        [1, 2, 3].map(() =>
          database.run((db) =>
            sql<{
              pid: number;
            }>`select pg_backend_pid() as pid, pg_sleep(0.2)`.execute(db),
          ),
        ),
      );
      const stale = opened.map(({ rows }) => rows[0].pid);
      expect(new Set(stale).size).toBe(3);

      const refused = await insert(database, 1).catch(
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(StoreUnavailableError);
      expect(refused).toMatchObject({
        reason: 'the server is read-only (a standby, not the primary)',
      });
      // Inside a unit of work too (a create and its Idempotency-Key's answer).
      await expect(
        database.unitOfWork(
          () => insert(database, 2),
          async () => undefined,
        ),
      ).rejects.toBeInstanceOf(StoreUnavailableError);

      // The primary is reachable now: a new session can write, an old one still cannot.
      await readOnly(false);
      await expect(insert(database, 3)).resolves.toBeDefined();
      // None of the connections opened before is used again, idle ones included: they are closed.
      expect(stale).not.toContain(await backends(database));
      await closed(...stale);
    });

    it('keeps the connections opened after the one that met it: they may have reached the new primary', async () => {
      const database = open(created.url, MIGRATIONS);
      const session = () =>
        database
          .run((db) =>
            sql<{
              pid: number;
              read_only: string;
            }>`select pg_backend_pid() as pid, current_setting('default_transaction_read_only') as read_only, pg_sleep(0.2)`.execute(
              db,
            ),
          )
          .then(({ rows }) => rows[0]);
      const old = await session();
      // The address leads to the primary now; the pool still holds the old connection.
      await readOnly(false);
      const [a, b] = await Promise.all([session(), session()]);
      const pids = [a.pid, b.pid];
      expect(pids).toContain(old.pid);
      const fresh = [a, b].find((one) => one.pid !== old.pid);
      expect(fresh?.read_only).toBe('off');

      // One write on each: the old connection's is refused, the new one's is stored.
      const writes = await Promise.allSettled(
        [1, 2].map((id) =>
          database.run((db) =>
            sql`insert into things select ${id} from pg_sleep(0.2)`.execute(db),
          ),
        ),
      );
      expect(writes.map(({ status }) => status).sort()).toEqual([
        'fulfilled',
        'rejected',
      ]);
      expect(await backends(database)).toBe(fresh?.pid);
      await insert(database, 3);
      expect(await backends(database)).toBe(fresh?.pid);
      await closed(old.pid);
    });
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

  describe('for a newcomer', () => {
    const elsewhere = (change: (url: URL) => void) => {
      const url = new URL(created.url);
      change(url);
      return url.toString();
    };

    it('answers 503 material for a database that does not exist, and says how to create it', async () => {
      const database = open(
        elsewhere((url) => (url.pathname = '/no_such_db')),
        MIGRATIONS,
      );
      await expect(
        database.run((db) => sql`select 1`.execute(db)),
      ).rejects.toBeInstanceOf(StoreUnavailableError);
      void database.start();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const { up, detail } = await database.status();
      expect(up).toBe(false);
      expect(detail).toMatch(
        /database "no_such_db" does not exist on 127\.0\.0\.1:\d+/,
      );
      expect(detail).toContain('CREATE DATABASE no_such_db');
      expect(detail).not.toContain('local-only');
    });

    it('says that the password is missing when the server asks for one', async () => {
      const database = open(
        elsewhere((url) => (url.password = '')),
        MIGRATIONS,
      );
      await expect(
        database.run((db) => sql`select 1`.execute(db)),
      ).rejects.toBeInstanceOf(StoreUnavailableError);
      void database.start();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const { detail } = await database.status();
      expect(detail).toMatch(
        /asks for a password and DATABASE_URL gives none: write it as postgres:\/\/user:password@127\.0\.0\.1:\d+\/test_/,
      );
      // No connection is left half open: one still authenticating would hold every DROP DATABASE
      // of the server (PostgreSQL 15) until its authentication_timeout, a minute.
      const scratch = await createTestDatabase();
      const began = Date.now();
      await scratch.drop();
      expect(Date.now() - began).toBeLessThan(10_000);
    });

    it("refuses another service's database, and starts nothing on it", async () => {
      await open(created.url, MIGRATIONS).migrate();
      const other = open(created.url, {
        '0001-other-things': MIGRATIONS['0001-things'],
      });
      await expect(other.migrate()).rejects.toThrow(ForeignDatabaseError);
      await expect(other.migrate()).rejects.toThrow(
        /test: its database was migrated by another service \(the first migration applied there, 0001-things, is not one of the test service's\); each service needs a database of its own/,
      );
      await expect(other.start()).rejects.toBeInstanceOf(ForeignDatabaseError);
    });
  });

  describe('behind a pooler in transaction mode (DATABASE_POOLER=transaction)', () => {
    const statementTimeout = (database: Database) =>
      database
        .run((db) =>
          sql<{ statement_timeout: string }>`show statement_timeout`.execute(
            db,
          ),
        )
        .then(({ rows }) => rows[0].statement_timeout);

    it('sends no session setting at connect (PgBouncer refuses them), where a direct pool sets the timeout', async () => {
      await expect(
        statementTimeout(open(created.url, MIGRATIONS)),
      ).resolves.toBe('5s');
      await expect(
        statementTimeout(
          open(created.url, MIGRATIONS, { DATABASE_POOLER: 'transaction' }),
        ),
      ).resolves.toBe('0');
    });

    it('migrates over DATABASE_MIGRATION_URL, PostgreSQL itself', async () => {
      const hole = await blackHole();
      try {
        const database = open(hole.url, MIGRATIONS, {
          DATABASE_POOLER: 'transaction',
          DATABASE_MIGRATION_URL: created.url,
        });
        await expect(database.migrate()).resolves.toEqual([
          '0001-things',
          '0002-seed-things',
        ]);
      } finally {
        await hole.close();
      }
    });
  });
});
