import {
  BuiltApp,
  createTestDatabase,
  freePort,
  LoadBalancer,
  parsePrometheusText,
  startBuiltApp,
  startLoadBalancer,
  TestDatabase,
  waitUntilReady,
} from '@app/testing';

const post = (
  url: string,
  body: object,
  headers: Record<string, string> = {},
) =>
  fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

/** How many requests to `route` with `method` this replica has answered, from its metrics. */
async function served(app: BuiltApp, method: string, route: string) {
  const metrics = parsePrometheusText(
    await (await fetch(`${app.url}/metrics`)).text(),
  );
  return metrics
    .filter(
      (sample) =>
        sample.name === 'http_request_duration_seconds_count' &&
        sample.labels.method === method &&
        sample.labels.route === route,
    )
    .reduce((sum, sample) => sum + sample.value, 0);
}

/**
 * Two users and two orders processes (the built apps) sharing one PostgreSQL server, a database
 * per service, behind nginx; orders calls users through the load balancer too.
 */
describe('two replicas of each service behind a load balancer', () => {
  let usersDb: TestDatabase;
  let ordersDb: TestDatabase;
  let lb: LoadBalancer;
  const ports = { users: [0, 0], orders: [0, 0] };
  const replicas: { users: BuiltApp[]; orders: BuiltApp[] } = {
    users: [],
    orders: [],
  };
  let usersUrl: string;
  let ordersUrl: string;

  const startReplica = async (app: 'users' | 'orders', index: number) => {
    const port = ports[app][index];
    const started = await startBuiltApp(app, port, {
      [app === 'users' ? 'USERS_PORT' : 'ORDERS_PORT']: String(port),
      DATABASE_URL: app === 'users' ? usersDb.url : ordersDb.url,
      USERS_SERVICE_URL: usersUrl,
      SHUTDOWN_DRAIN_MS: '0',
    });
    replicas[app][index] = started;
    return started;
  };
  const startAll = async () => {
    // All at once, as an orchestrator does: the migrations' lock lets one replica apply them.
    const started = await Promise.all([
      startReplica('users', 0),
      startReplica('users', 1),
    ]);
    await Promise.all(started.map((app) => waitUntilReady(app.url)));
    const orders = await Promise.all([
      startReplica('orders', 0),
      startReplica('orders', 1),
    ]);
    await Promise.all(orders.map((app) => waitUntilReady(app.url)));
  };
  const stopAll = () =>
    Promise.all(
      [...replicas.orders, ...replicas.users].map((app) => app?.stop()),
    );

  beforeAll(async () => {
    [usersDb, ordersDb] = await Promise.all([
      createTestDatabase(),
      createTestDatabase(),
    ]);
    for (const app of ['users', 'orders'] as const)
      ports[app] = [await freePort(), await freePort()];
    const url = (port: number) => `http://127.0.0.1:${port}`;
    lb = await startLoadBalancer({
      users: ports.users.map(url),
      orders: ports.orders.map(url),
    }).catch(async (error: Error) => {
      await Promise.all([usersDb.drop(), ordersDb.drop()]);
      throw error;
    });
    usersUrl = lb.urls.users;
    ordersUrl = lb.urls.orders;
    await startAll();
  });

  afterAll(async () => {
    await stopAll();
    await lb?.stop();
    await Promise.all([usersDb?.drop(), ordersDb?.drop()]);
  });

  it('applied the migrations once, from one of the replicas started together', () => {
    const applied = replicas.users.filter((app) =>
      app.output().includes('Applied migrations'),
    );
    expect(applied).toHaveLength(1);
  });

  it('gives concurrent creates spread over the replicas unique, gapless ids', async () => {
    const before = await Promise.all(
      replicas.users.map((app) => served(app, 'POST', '/users')),
    );
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        post(`${usersUrl}/users`, { name: `C${i}`, email: `c${i}@x.io` }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(40).fill(201));
    const ids = await Promise.all(
      answers.map(async (answer) => (await answer.json()).user_id as number),
    );
    expect(ids.sort((a, b) => a - b)).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 3),
    );
    const after = await Promise.all(
      replicas.users.map((app) => served(app, 'POST', '/users')),
    );
    // Both replicas took part.
    expect(after[0] - before[0]).toBeGreaterThan(0);
    expect(after[1] - before[1]).toBeGreaterThan(0);

    const orders = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        post(`${ordersUrl}/orders`, { user_id: 1, product: `P${i}` }),
      ),
    );
    const orderIds = await Promise.all(
      orders.map(async (answer) => (await answer.json()).order_id as number),
    );
    expect(orderIds.sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 3),
    );
  });

  it('of concurrent creates of one email on different replicas, stores exactly one', async () => {
    const emails = ['same@x.io', 'SAME@x.io', 'same@X.IO', 'Same@x.io'];
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        // Straight to each replica in turn, so both surely race.
        post(`${replicas.users[i % 2].url}/users`, {
          name: 'Same',
          email: emails[i % emails.length],
        }),
      ),
    );
    const statuses = answers
      .map((answer) => answer.status)
      .sort((a, b) => a - b);
    expect(statuses).toEqual([201, ...Array(11).fill(409)]);
    const list = await (await fetch(`${usersUrl}/users?limit=100`)).json();
    expect(
      list.items.filter(
        (user: { email: string }) => user.email.toLowerCase() === 'same@x.io',
      ),
    ).toHaveLength(1);
  });

  it('replays an Idempotency-Key on another replica, and refuses another request under it there', async () => {
    const key = { 'Idempotency-Key': 'replica-key-1' };
    const body = { name: 'Kay', email: 'kay@x.io' };
    const first = await post(`${replicas.users[0].url}/users`, body, key);
    expect(first.status).toBe(201);
    const replayed = await post(`${replicas.users[1].url}/users`, body, key);
    expect(replayed.status).toBe(201);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    await expect(replayed.json()).resolves.toEqual(await first.json());
    const viaLb = await post(`${usersUrl}/users`, body, key);
    expect(viaLb.headers.get('idempotent-replayed')).toBe('true');
    // Another request under the same key, on the other replica: refused.
    const other = await post(
      `${replicas.users[1].url}/users`,
      { name: 'Kay', email: 'kay2@x.io' },
      key,
    );
    expect(other.status).toBe(422);
  });

  it('loses no request when a replica of each service is killed under steady GET load', async () => {
    let stop = false;
    const failures: string[] = [];
    let done = 0;
    const worker = async (n: number) => {
      for (let i = n; !stop; i += 8) {
        const id = (i % 2) + 1;
        const response = await fetch(`${ordersUrl}/orders/${id}`).catch(
          (error: Error) => ({ status: 0, statusText: error.message }),
        );
        done++;
        if (response.status !== 200)
          failures.push(`${response.status} ${response.statusText}`);
        if ('body' in response) await response.text();
      }
    };
    const load = Array.from({ length: 8 }, (_, n) => worker(n));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = done;
    await Promise.all([
      replicas.users[0].stop('SIGKILL'),
      replicas.orders[1].stop('SIGKILL'),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    stop = true;
    await Promise.all(load);
    expect(done - before).toBeGreaterThan(50);
    expect(failures).toEqual([]);

    await Promise.all([startReplica('users', 0), startReplica('orders', 1)]);
    await waitUntilReady(replicas.users[0].url);
    await waitUntilReady(replicas.orders[1].url);
  });

  it('keeps every row and the id sequence when all replicas restart', async () => {
    const before = await (await fetch(`${usersUrl}/users?limit=1`)).json();
    const ordersBefore = await (
      await fetch(`${ordersUrl}/orders?limit=1`)
    ).json();
    await stopAll();
    await startAll();
    const after = await (await fetch(`${usersUrl}/users?limit=1`)).json();
    expect(after.total).toBe(before.total);
    const next = await post(`${usersUrl}/users`, {
      name: 'Next',
      email: 'next@x.io',
    });
    // Every id so far was used by a stored user (none failed in between), so the next is total + 1.
    await expect(next.json()).resolves.toEqual({ user_id: before.total + 1 });
    await expect(
      (await fetch(`${ordersUrl}/orders?limit=1`)).json(),
    ).resolves.toMatchObject({ total: ordersBefore.total });
    // No replica applied a migration again.
    expect(
      replicas.users.some((app) => app.output().includes('Applied migrations')),
    ).toBe(false);
  });
});
