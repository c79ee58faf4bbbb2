import {
  BuiltApp,
  createTestDatabase,
  freePort,
  PgBouncer,
  queryTestDatabase,
  startBuiltApp,
  startPgBouncer,
  TestDatabase,
  waitUntilReady,
} from '@app/testing';

const { startCluster } =
  require('../scripts/postgres-cluster.cjs') as typeof import('../scripts/postgres-cluster.cjs');

const REPLICAS = 8;
const MAX_CONNECTIONS = 40;

/**
 * Many replicas, one database server: 8 of each service, each with its default pool of 10, are
 * 160 connections, four times what a PostgreSQL with max_connections=40 takes. Through PgBouncer
 * in transaction mode they share a few server connections; migrations go to PostgreSQL itself.
 */
describe(`${REPLICAS} replicas of each service on a PostgreSQL with max_connections=${MAX_CONNECTIONS}, through PgBouncer`, () => {
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  let bouncer: PgBouncer;
  let databases: Record<'users' | 'orders', TestDatabase>;
  const replicas: Record<'users' | 'orders', BuiltApp[]> = {
    users: [],
    orders: [],
  };
  /** The most server connections seen at once, sampled while the replicas start and serve. */
  let mostConnections = 0;
  let sampling: NodeJS.Timeout | undefined;

  const start = (app: 'users' | 'orders', usersUrl = '') =>
    Promise.all(
      Array.from({ length: REPLICAS }, async () => {
        const port = await freePort();
        const replica = await startBuiltApp(
          app,
          port,
          {
            [app === 'users' ? 'USERS_PORT' : 'ORDERS_PORT']: String(port),
            DATABASE_URL: bouncer.url(databases[app].url),
            DATABASE_MIGRATION_URL: databases[app].url,
            DATABASE_POOLER: 'transaction',
            USERS_SERVICE_URL: usersUrl,
          },
          { limitMs: 120_000 },
        );
        replicas[app].push(replica);
        await waitUntilReady(replica.url, 120_000);
        return replica;
      }),
    );

  beforeAll(async () => {
    cluster = await startCluster({
      settings: { max_connections: MAX_CONNECTIONS },
    });
    databases = {
      users: await createTestDatabase(cluster.url),
      orders: await createTestDatabase(cluster.url),
    };
    // 2 databases x 12 server connections, and room for the 16 migrators' own at start.
    bouncer = await startPgBouncer(cluster.url, { poolSize: 12 });
    sampling = setInterval(() => {
      queryTestDatabase<{ n: number }>(
        cluster.url,
        "select count(*)::int as n from pg_stat_activity where backend_type = 'client backend'",
      ).then(
        ([{ n }]) => (mostConnections = Math.max(mostConnections, n)),
        () => undefined,
      );
    }, 50);
    // All of a service at once, as an orchestrator scales it out.
    const users = await start('users');
    await start('orders', users[0].url);
  }, 300_000);

  afterAll(async () => {
    clearInterval(sampling);
    await Promise.all(
      [...replicas.orders, ...replicas.users].map((replica) => replica.stop()),
    );
    await bouncer?.stop();
    await cluster?.stop();
  });

  it('starts every replica, migrated once, with no connection refused', () => {
    const all = [...replicas.users, ...replicas.orders];
    expect(all).toHaveLength(2 * REPLICAS);
    for (const app of ['users', 'orders'] as const)
      expect(
        replicas[app].filter((replica) =>
          replica.output().includes('Applied migrations'),
        ),
      ).toHaveLength(1);
    for (const replica of all)
      expect(replica.output()).not.toMatch(
        /Database not ready|too many clients|connection slots|unsupported startup parameter/,
      );
  });

  it('serves a load spread over all of them with no failed request, within the server connections', async () => {
    let sent = 0;
    const failures: string[] = [];
    const client = async (index: number) => {
      for (let i = 0; i < 40; i++) {
        const n = sent++;
        const users = replicas.users[n % REPLICAS];
        const orders = replicas.orders[(n + index) % REPLICAS];
        const [url, init]: [string, RequestInit?] =
          n % 4 === 0
            ? [
                `${users.url}/users`,
                {
                  method: 'POST',
                  headers: { 'Content-Type': 'application/json' },
                  body: JSON.stringify({
                    name: `Many ${n}`,
                    email: `many-${n}@example.com`,
                  }),
                },
              ]
            : n % 4 === 1
              ? [
                  `${orders.url}/orders`,
                  {
                    method: 'POST',
                    headers: { 'Content-Type': 'application/json' },
                    body: JSON.stringify({ user_id: 1, product: `Many ${n}` }),
                  },
                ]
              : [`${orders.url}/orders/${(n % 2) + 1}`];
        const response = await fetch(url, init).catch((error: Error) => error);
        if (response instanceof Error)
          failures.push(`${url}: ${response.message}`);
        else if (response.status >= 300)
          failures.push(`${url}: ${response.status} ${await response.text()}`);
      }
    };
    await Promise.all(Array.from({ length: 32 }, (_, i) => client(i)));
    expect(failures).toEqual([]);
    expect(sent).toBe(32 * 40);
    expect(mostConnections).toBeGreaterThan(0);
    expect(mostConnections).toBeLessThanOrEqual(MAX_CONNECTIONS);
    for (const replica of [...replicas.users, ...replicas.orders])
      expect(replica.output()).not.toMatch(/"level":50|too many clients/);
    expect(bouncer.output()).not.toMatch(/unsupported startup parameter/);
  });
});
