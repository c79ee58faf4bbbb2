import {
  builtMain,
  BuiltApp,
  createTestDatabase,
  eventually,
  expectSeedCalls,
  freePort,
  queryTestDatabase,
  spawnBuiltApp,
  startBuiltApp,
  startTcpProxy,
  TcpProxy,
  TestDatabase,
  waitUntilReady,
} from '@app/testing';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Client } from 'pg';

const { startCluster } =
  require('../scripts/postgres-cluster.cjs') as typeof import('../scripts/postgres-cluster.cjs');

const json = async (url: string, body?: object) => {
  const response = await fetch(url, {
    method: body ? 'POST' : 'GET',
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body && JSON.stringify(body),
  });
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    retryAfter: response.headers.get('retry-after'),
    text: await response.text(),
  };
};

/**
 * Both built apps as real processes, each on its own fresh PostgreSQL database, as a deployment
 * with DATABASE_URL runs them.
 */
describe('both built apps on PostgreSQL', () => {
  let usersDb: TestDatabase;
  let ordersDb: TestDatabase;
  let users: BuiltApp;
  let orders: BuiltApp;
  let usersPort: number;
  let ordersPort: number;

  const startUsers = async (env: Record<string, string> = {}) => {
    users = await startBuiltApp('users', usersPort, {
      USERS_PORT: String(usersPort),
      DATABASE_URL: usersDb.url,
      ...env,
    });
    await waitUntilReady(users.url);
  };
  const startOrders = async () => {
    orders = await startBuiltApp('orders', ordersPort, {
      ORDERS_PORT: String(ordersPort),
      USERS_SERVICE_URL: users.url,
      DATABASE_URL: ordersDb.url,
    });
    await waitUntilReady(orders.url);
  };

  beforeEach(async () => {
    [usersDb, ordersDb] = await Promise.all([
      createTestDatabase(),
      createTestDatabase(),
    ]);
    [usersPort, ordersPort] = [await freePort(), await freePort()];
  });

  afterEach(async () => {
    await orders?.stop();
    await users?.stop();
    await Promise.all([usersDb.drop(), ordersDb.drop()]);
  });

  it("answers the seed's four calls exactly on a fresh database", async () => {
    await startUsers();
    await startOrders();
    await expectSeedCalls(users.url, orders.url);
  });

  it('keeps every row and the id sequence across restarts; the seed rows are not added again', async () => {
    await startUsers();
    await startOrders();
    const dana = JSON.parse(
      (await json(`${users.url}/users`, { name: 'Dana', email: 'd@x.io' }))
        .text,
    );
    const order = JSON.parse(
      (
        await json(`${orders.url}/orders`, {
          user_id: dana.user_id,
          product: 'Desk',
        })
      ).text,
    );
    await queryTestDatabase(usersDb.url, 'delete from users where id = 2');

    await orders.stop();
    await users.stop();
    await startUsers();
    await startOrders();

    await expect(
      json(`${users.url}/users`, { name: 'Erin', email: 'e@x.io' }),
    ).resolves.toMatchObject({ status: 201, text: '{"user_id":4}' });
    await expect(
      json(`${orders.url}/orders/${order.order_id}`),
    ).resolves.toMatchObject({
      status: 200,
      text: `{"user_id":${dana.user_id},"product":"Desk","user":{"name":"Dana","email":"d@x.io"}}`,
    });
    // Bob was deleted by hand; a restart does not seed him again.
    await expect(json(`${users.url}/users/2`)).resolves.toMatchObject({
      status: 404,
    });
  });

  describe('with the database behind a proxy that can cut it', () => {
    let proxy: TcpProxy;
    let viaProxy: string;

    beforeEach(async () => {
      const direct = new URL(usersDb.url);
      proxy = await startTcpProxy({
        host: direct.hostname,
        port: Number(direct.port),
      });
      direct.port = String(proxy.port);
      viaProxy = direct.toString();
    });

    afterEach(() => proxy.close());

    it('starts without its database: live, not ready with the reason, ready once it appears', async () => {
      await proxy.cut();
      users = await startBuiltApp('users', usersPort, {
        USERS_PORT: String(usersPort),
        DATABASE_URL: viaProxy,
      });
      await expect(json(`${users.url}/health/live`)).resolves.toMatchObject({
        status: 200,
      });
      const notReady = await json(`${users.url}/health/ready`);
      expect(notReady.status).toBe(503);
      expect(notReady.type).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(notReady.text).health.details.database).toEqual({
        status: 'down',
        detail: expect.stringMatching(/ECONNREFUSED|not connected yet/),
      });
      await expect(json(`${users.url}/users/1`)).resolves.toMatchObject({
        status: 503,
        retryAfter: '1',
      });

      await proxy.restore();
      await waitUntilReady(users.url);
      await expect(json(`${users.url}/users/1`)).resolves.toMatchObject({
        status: 200,
      });
      expect(users.output()).toMatch(/Database not ready \(.*ECONNREFUSED/);
      const password = decodeURIComponent(new URL(viaProxy).password);
      expect(users.output()).not.toContain(password);
    });

    it('answers 503 quickly while the database is lost, and recovers by itself', async () => {
      await startUsers({
        DATABASE_URL: viaProxy,
        DATABASE_CONNECT_TIMEOUT_MS: '500',
      });
      await expect(json(`${users.url}/users/1`)).resolves.toMatchObject({
        status: 200,
      });

      await proxy.cut();
      for (const path of ['/users/1', '/users']) {
        const began = Date.now();
        const lost = await json(`${users.url}${path}`);
        expect(lost).toMatchObject({ status: 503, retryAfter: '1' });
        expect(lost.type).toMatch(/^application\/problem\+json/);
        expect(JSON.parse(lost.text).detail).toBe(
          'The database is unavailable; try again shortly.',
        );
        // Bounded by the connect timeout, far from a hang; generous for a loaded machine.
        expect(Date.now() - began).toBeLessThan(10_000);
      }
      const created = await json(`${users.url}/users`, {
        name: 'Lost',
        email: 'lost@x.io',
      });
      expect(created.status).toBe(503);
      await expect(json(`${users.url}/health/ready`)).resolves.toMatchObject({
        status: 503,
      });
      await expect(json(`${users.url}/health/live`)).resolves.toMatchObject({
        status: 200,
      });

      await proxy.restore();
      await waitUntilReady(users.url);
      // Nothing half-stored: the next user gets the next id.
      await expect(
        json(`${users.url}/users`, { name: 'Back', email: 'back@x.io' }),
      ).resolves.toMatchObject({ status: 201, text: '{"user_id":3}' });
      expect(users.output()).not.toContain(
        decodeURIComponent(new URL(viaProxy).password),
      );
    });
  });

  it('answers a write on a server that cannot write (a standby, an old primary back as one) with 503 problem+json and Retry-After, and writes again on a fresh connection once it can', async () => {
    await startUsers();
    await users.stop();
    // From the server's own database: a session of the users database could not change it back.
    const server = Object.assign(new URL(usersDb.url), {
      pathname: '/postgres',
    }).href;
    const name = new URL(usersDb.url).pathname.slice(1);
    // Every session opened from now on is read-only, as on a hot standby (SQLSTATE 25006 for any
    // write); migrations are a release step's, as they are against a cluster that fails over.
    await queryTestDatabase(
      server,
      `alter database ${name} set default_transaction_read_only = on`,
    );
    await startUsers({ DATABASE_MIGRATE_AT_START: 'false' });
    await expect(json(`${users.url}/users/1`)).resolves.toMatchObject({
      status: 200,
    });
    const refused = await json(`${users.url}/users`, {
      name: 'Rhea',
      email: 'rhea@x.io',
    });
    expect(refused).toMatchObject({
      status: 503,
      type: 'application/problem+json; charset=utf-8',
      retryAfter: '1',
    });
    expect(JSON.parse(refused.text).detail).toBe(
      'The database is unavailable; try again shortly.',
    );
    // The reason in the log, written as the answer leaves.
    await eventually(
      () => users.output(),
      (output) =>
        output.includes('the server is read-only (a standby, not the primary)'),
      'the log to say the server is read-only',
    );

    // The primary is reachable again: only a new session can write. The next request gets one.
    await queryTestDatabase(
      server,
      `alter database ${name} reset default_transaction_read_only`,
    );
    await expect(
      json(`${users.url}/users`, { name: 'Rhea', email: 'rhea@x.io' }),
    ).resolves.toMatchObject({ status: 201, text: '{"user_id":3}' });
  });

  it('lets exactly one of two PATCHes with the same If-Match win, sent to two replicas at once; erasures stay erased on both', async () => {
    await startUsers();
    const first = users;
    const secondPort = await freePort();
    const second = await startBuiltApp('users', secondPort, {
      USERS_PORT: String(secondPort),
      DATABASE_URL: usersDb.url,
    });
    try {
      await waitUntilReady(second.url);
      const tag = (await fetch(`${first.url}/users/1`)).headers.get('etag')!;
      for (let round = 0; round < 5; round++) {
        const seen = (await fetch(`${first.url}/users/1`)).headers.get('etag')!;
        const answers = await Promise.all(
          [first, second].map((replica, i) =>
            fetch(`${replica.url}/users/1`, {
              method: 'PATCH',
              headers: {
                'content-type': 'application/merge-patch+json',
                'if-match': seen,
              },
              body: JSON.stringify({ name: `Round ${round} replica ${i}` }),
            }).then((response) => response.status),
          ),
        );
        expect(answers.sort((a, b) => a - b)).toEqual([200, 412]);
      }
      expect(
        (await fetch(`${second.url}/users/1`)).headers.get('etag'),
      ).not.toBe(tag);
      await expect(
        queryTestDatabase(
          usersDb.url,
          'select version from users where id = 1',
        ),
      ).resolves.toEqual([{ version: 6 }]);
      // Erased on one replica: gone on the other, and the id is not handed out again.
      expect(
        (await fetch(`${first.url}/users/2`, { method: 'DELETE' })).status,
      ).toBe(204);
      expect((await fetch(`${second.url}/users/2`)).status).toBe(404);
      await expect(
        queryTestDatabase(usersDb.url, 'select * from users where id = 2'),
      ).resolves.toEqual([]);
      const created = await json(`${second.url}/users`, {
        name: 'Bob',
        email: 'bob@example.com',
      });
      expect(created.text).toBe('{"user_id":3}');
    } finally {
      await second.stop();
    }
  });

  it('finishes the requests in flight on SIGTERM, then closes its pool and exits 0', async () => {
    await startUsers({
      SHUTDOWN_DRAIN_MS: '200',
      DATABASE_POOL_MAX: '20',
      DATABASE_STATEMENT_TIMEOUT_MS: '60000',
    });
    // Held claims of their Idempotency-Keys: each request is provably inside the app, waiting on
    // the database, when the signal comes, however slow the machine. (Creates themselves are
    // written together, so only the first would wait there.)
    const lock = new Client({ connectionString: usersDb.url });
    await lock.connect();
    try {
      await lock.query('begin; lock table idempotency_keys in exclusive mode');
      const inFlight = Array.from({ length: 20 }, (_, i) =>
        fetch(`${users.url}/users`, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'Idempotency-Key': `in-flight-${i}`,
          },
          body: JSON.stringify({ name: `U${i}`, email: `u${i}@x.io` }),
        }),
      );
      await eventually(
        () =>
          queryTestDatabase(
            usersDb.url,
            "select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
          ),
        (rows) => isDeepStrictEqual(rows, [{ n: 20 }]),
        'the 20 claims to wait on the lock',
      );
      const stopped = users.stop('SIGTERM');
      await eventually(
        () => users.output(),
        (output) => output.includes('Drained: refusing new connections'),
        'the drain to end',
      );
      await lock.query('commit');
      const answers = await Promise.all(inFlight);
      expect(answers.map((answer) => answer.status)).toEqual(
        Array(20).fill(201),
      );
      await expect(stopped).resolves.toBe(0);
    } finally {
      await lock.end();
    }
    await expect(
      queryTestDatabase(usersDb.url, 'select count(*)::int as n from users'),
    ).resolves.toEqual([{ n: 22 }]);
  });

  it('runs its migrations on their own with `main.js migrate`, and the app starts with them off', async () => {
    const migrate = () =>
      spawnSync(process.execPath, [builtMain('users'), 'migrate'], {
        env: { PATH: process.env.PATH, DATABASE_URL: usersDb.url },
        encoding: 'utf8',
      });
    const first = migrate();
    expect(first.status).toBe(0);
    expect(first.stdout).toBe(
      'users: applied 0001-create-users, 0002-seed-users, 0003-create-idempotency-keys, 0004-add-user-versions\n',
    );
    expect(migrate().stdout).toBe('users: up to date\n');

    await startUsers({ DATABASE_MIGRATE_AT_START: 'false' });
    await expect(json(`${users.url}/users/2`)).resolves.toMatchObject({
      status: 200,
    });
  });

  it('refuses to migrate without DATABASE_URL, saying so', () => {
    const run = spawnSync(process.execPath, [builtMain('users'), 'migrate'], {
      env: { PATH: process.env.PATH },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      'users: DATABASE_URL is not set; nothing to migrate\n',
    );
  });

  describe('as a newcomer meets it', () => {
    const elsewhere = (change: (url: URL) => void) => {
      const url = new URL(usersDb.url);
      change(url);
      return url.toString();
    };
    const readiness = async (app: BuiltApp) =>
      JSON.stringify(await (await fetch(`${app.url}/health/ready`)).json());

    it('answers 503 problem+json with Retry-After when its database does not exist, and readiness says how to create it', async () => {
      users = await startBuiltApp('users', usersPort, {
        USERS_PORT: String(usersPort),
        DATABASE_URL: elsewhere((url) => (url.pathname = '/users_typo')),
      });
      await eventually(
        () => readiness(users),
        (said) => said.includes('does not exist'),
        'readiness to name the missing database',
      );
      await expect(readiness(users)).resolves.toMatch(
        /database \\"users_typo\\" does not exist on 127\.0\.0\.1:\d+: create it \(.*CREATE DATABASE users_typo\)/,
      );
      const answer = await json(`${users.url}/users/1`);
      expect(answer).toMatchObject({
        status: 503,
        type: 'application/problem+json; charset=utf-8',
        retryAfter: '1',
      });
      const created = await json(`${users.url}/users`, {
        name: 'Ann',
        email: 'ann@example.com',
      });
      expect(created.status).toBe(503);
    });

    it('says the password is missing when the server asks for one and DATABASE_URL has none', async () => {
      users = await startBuiltApp('users', usersPort, {
        USERS_PORT: String(usersPort),
        DATABASE_URL: elsewhere((url) => (url.password = '')),
      });
      await eventually(
        () => readiness(users),
        (said) => said.includes('password'),
        'readiness to say what is missing',
      );
      await expect(readiness(users)).resolves.toMatch(
        /the server on 127\.0\.0\.1:\d+ asks for a password and DATABASE_URL gives none: write it as postgres:\/\/user:password@/,
      );
      expect(users.output()).not.toContain('must be a string');
      await expect(json(`${users.url}/users/1`)).resolves.toMatchObject({
        status: 503,
        retryAfter: '1',
      });
    });

    it("refuses to start on another service's database, in one line", async () => {
      await startUsers();
      const refused = spawnBuiltApp('orders', {
        ORDERS_PORT: String(ordersPort),
        USERS_SERVICE_URL: users.url,
        DATABASE_URL: usersDb.url,
      });
      await expect(refused.exited).resolves.toBe(1);
      expect(refused.output()).toContain(
        "orders: its database was migrated by another service (the first migration applied there, 0001-create-users, is not one of the orders service's); each service needs a database of its own: point DATABASE_URL at the orders service's own database\n",
      );
      expect(refused.output()).not.toMatch(/corrupted migrations/);
      // The same from the release step.
      const migrate = spawnSync(
        process.execPath,
        [builtMain('orders'), 'migrate'],
        {
          env: { PATH: process.env.PATH, DATABASE_URL: usersDb.url },
          encoding: 'utf8',
        },
      );
      expect(migrate.status).toBe(1);
      expect(migrate.stderr).toMatch(
        /^orders: its database was migrated by another service .*\n$/,
      );
      // Nothing of orders was written to the users database.
      await expect(
        queryTestDatabase(
          usersDb.url,
          "select count(*)::int as n from information_schema.tables where table_name = 'orders'",
        ),
      ).resolves.toEqual([{ n: 0 }]);
    });
  });
});

describe("npm run start:postgres's cluster", () => {
  // The script the command runs, before it builds anything: the cluster comes first.
  const startPostgres = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['scripts/start-postgres.cjs'], {
      env: { PATH: process.env.PATH, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });

  it("keeps its data with PostgreSQL's durable defaults; only throwaway clusters turn them off", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kept-'));
    chmodSync(dir, 0o755);
    const settings = async (cluster: { url: string }) => {
      const client = new Client({ connectionString: cluster.url });
      await client.connect();
      try {
        const read = async (name: string) =>
          (await client.query<Record<string, string>>(`show ${name}`)).rows[0][
            name
          ];
        return {
          fsync: await read('fsync'),
          synchronous_commit: await read('synchronous_commit'),
          full_page_writes: await read('full_page_writes'),
        };
      } finally {
        await client.end();
      }
    };
    const kept = await startCluster({ dir: join(dir, 'postgres') });
    try {
      await expect(settings(kept)).resolves.toEqual({
        fsync: 'on',
        synchronous_commit: 'on',
        full_page_writes: 'on',
      });
    } finally {
      await kept.stop({ keepData: false });
      rmSync(dir, { recursive: true, force: true });
    }
    const throwaway = await startCluster();
    try {
      await expect(settings(throwaway)).resolves.toEqual({
        fsync: 'off',
        synchronous_commit: 'off',
        full_page_writes: 'off',
      });
    } finally {
      await throwaway.stop();
    }
  });

  it("says initdb's own error, and the way out, when postgres cannot reach the data directory", () => {
    // As root (CI, containers), the cluster belongs to `postgres`, who cannot enter a mode-700
    // directory of root's: a checkout under /root, say.
    const home = mkdtempSync(join(tmpdir(), 'private-'));
    chmodSync(home, 0o700);
    try {
      const run = startPostgres({
        POSTGRES_DATA_DIR: join(home, 'checkout', '.data', 'postgres'),
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(
        /^initdb could not create the cluster: initdb: error: could not access directory ".*\/checkout\/\.data\/postgres": Permission denied\n/,
      );
      expect(run.stderr).toContain(
        'Keep the data elsewhere (POSTGRES_DATA_DIR=/var/tmp/users-orders-postgres npm run start:postgres)',
      );
      expect(run.stderr).not.toContain('Command failed');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
