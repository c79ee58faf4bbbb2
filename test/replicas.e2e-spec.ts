import {
  BuiltApp,
  createTestDatabase,
  eventually,
  freePort,
  jsonLines,
  LoadBalancer,
  parsePrometheusText,
  PgBouncer,
  PostgresServer,
  sendRaw,
  startBuiltApp,
  startLoadBalancer,
  startPgBouncer,
  startPostgresServer,
  TestDatabase,
  waitUntilReady,
  steadyLoad,
  MIXED_LOAD_ROUTES,
  type MixedLoadRoute,
} from '@app/testing';
import { get, STATUS_CODES } from 'node:http';

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

/**
 * How many API requests this replica has answered, from its metrics: all of them, or those to
 * `route` with `method`.
 */
async function served(app: BuiltApp, method?: string, route?: string) {
  const metrics = parsePrometheusText(
    await (await fetch(`${app.url}/metrics`)).text(),
  );
  return metrics
    .filter(
      (sample) =>
        sample.name === 'http_request_duration_seconds_count' &&
        (method === undefined || sample.labels.method === method) &&
        (route === undefined || sample.labels.route === route),
    )
    .reduce((sum, sample) => sum + sample.value, 0);
}

/**
 * A GET from a client of its own: a connection from `address`, one of loopback's many
 * (127.0.0.2, ...), so that nginx, listening on 127.0.0.1, sees a different client for each.
 */
function getFrom(
  address: string,
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { localAddress: address, headers, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          type: response.headers['content-type'] ?? '',
          body,
        }),
      );
    }).on('error', reject);
  });
}

/** One request of the mixed load, as its client saw it. */
interface Outcome {
  route: string;
  status: number;
  type: string;
  /** `Date.now()` when it was sent and when its answer had arrived. */
  sent: number;
  done: number;
  /** The start of the body, or the network error, of an answer that is not a success. */
  detail?: string;
}

/**
 * Clients sending every route of both services through the load balancer, each one request after
 * another, until stopped: reads and creates, the two-hop routes and the one that needs no users.
 */
function mixedLoad(urls: { users: string; orders: string }, clients = 4) {
  let sequence = 0;
  const send = async (route: MixedLoadRoute): Promise<Outcome> => {
    const n = sequence++;
    const id = (n % 2) + 1;
    const sent = Date.now();
    const [method, url, body] = {
      'GET /users/:id': ['GET', `${urls.users}/users/${id}`],
      'POST /users': [
        'POST',
        `${urls.users}/users`,
        { name: `Load ${n}`, email: `load-${n}-${sent}@x.io` },
      ],
      'GET /orders/:id': ['GET', `${urls.orders}/orders/${id}`],
      'POST /orders': [
        'POST',
        `${urls.orders}/orders`,
        { user_id: id, product: `Load ${n}` },
      ],
      'GET /orders': ['GET', `${urls.orders}/orders?limit=1`],
    }[route] as [string, string, object?];
    try {
      const response = await fetch(url, {
        method,
        headers: body ? { 'Content-Type': 'application/json' } : {},
        body: body && JSON.stringify(body),
      });
      const text = await response.text();
      const ok = response.status === (method === 'POST' ? 201 : 200);
      return {
        route,
        status: response.status,
        type: response.headers.get('content-type') ?? '',
        sent,
        done: Date.now(),
        ...(!ok && { detail: text.slice(0, 200) }),
      };
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      return {
        route,
        status: 0,
        type: '',
        sent,
        done: Date.now(),
        detail: cause?.code ?? String(error),
      };
    }
  };
  return steadyLoad(clients, (i) =>
    send(MIXED_LOAD_ROUTES[i % MIXED_LOAD_ROUTES.length]),
  );
}

const isSuccess = (outcome: Outcome) =>
  outcome.status === (outcome.route.startsWith('POST') ? 201 : 200);

/**
 * Two users and two orders processes (the built apps) sharing one PostgreSQL server, a database
 * per service, through PgBouncer in transaction mode (migrations go to PostgreSQL itself), behind
 * nginx; orders calls users through the load balancer too.
 */
describe('two replicas of each service behind a load balancer', () => {
  let postgres: PostgresServer;
  let bouncer: PgBouncer;
  let usersDb: TestDatabase;
  let ordersDb: TestDatabase;
  let lb: LoadBalancer;
  const ports = { users: [0, 0], orders: [0, 0], limited: 0, gone: 0 };
  const replicas: { users: BuiltApp[]; orders: BuiltApp[] } = {
    users: [],
    orders: [],
  };
  let usersUrl: string;
  let ordersUrl: string;

  const startReplica = async (app: 'users' | 'orders', index: number) => {
    const port = ports[app][index];
    const database = app === 'users' ? usersDb : ordersDb;
    const started = await startBuiltApp(
      app,
      port,
      {
        [app === 'users' ? 'USERS_PORT' : 'ORDERS_PORT']: String(port),
        DATABASE_URL: bouncer.url(database.url),
        DATABASE_MIGRATION_URL: database.url,
        DATABASE_POOLER: 'transaction',
        USERS_SERVICE_URL: usersUrl,
        // A drain as in production, shorter: nginx does not watch readiness, so what matters is
        // how connections are kept and closed around it.
        SHUTDOWN_DRAIN_MS: '1000',
        // nginx connects from 127.0.0.1, and only it: as compose's TRUST_PROXY=1 does there.
        TRUST_PROXY: '127.0.0.1',
      },
      { limitMs: 60_000 },
    );
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
    // A server of its own: this suite restarts it.
    postgres = await startPostgresServer();
    [usersDb, ordersDb] = await Promise.all([
      createTestDatabase(postgres.url),
      createTestDatabase(postgres.url),
    ]);
    bouncer = await startPgBouncer(postgres.url);
    for (const app of ['users', 'orders'] as const)
      ports[app] = [await freePort(), await freePort()];
    ports.limited = await freePort();
    ports.gone = await freePort();
    const url = (port: number) => `http://127.0.0.1:${port}`;
    lb = await startLoadBalancer({
      users: ports.users.map(url),
      orders: ports.orders.map(url),
      // A users replica with a rate limit, started by the test that needs it.
      limited: [url(ports.limited)],
      // Nothing listens there: nginx has to answer itself.
      gone: [url(ports.gone)],
    }).catch(async (error: Error) => {
      await bouncer.stop();
      await postgres.stop();
      throw error;
    });
    usersUrl = lb.urls.users;
    ordersUrl = lb.urls.orders;
    await startAll();
  }, 180_000);

  afterAll(async () => {
    await stopAll();
    await lb?.stop();
    await bouncer?.stop();
    await postgres?.stop();
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

  it('tells clients behind nginx apart by the address nginx forwards, and believes no client about its own', async () => {
    const port = ports.limited;
    const limited = await startBuiltApp(
      'users',
      port,
      {
        USERS_PORT: String(port),
        DATABASE_URL: bouncer.url(usersDb.url),
        DATABASE_MIGRATION_URL: usersDb.url,
        DATABASE_POOLER: 'transaction',
        TRUST_PROXY: '127.0.0.1',
        RATE_LIMIT_PER_MINUTE: '3',
      },
      { limitMs: 60_000 },
    );
    try {
      await waitUntilReady(limited.url);
      const viaNginx = `${lb.urls.limited}/users/1`;
      const from = (address: string, id: string, url = viaNginx, xff = {}) =>
        getFrom(address, url, { 'x-request-id': id, ...xff }).then(
          ({ status }) => status,
        );
      for (let i = 0; i < 3; i++)
        await expect(from('127.0.0.2', `a-${i}`)).resolves.toBe(200);
      // Client A is out of requests, whoever it says it forwards for: nginx adds A's address.
      await expect(
        from('127.0.0.2', 'a-forged', viaNginx, {
          'x-forwarded-for': '127.0.0.9',
        }),
      ).resolves.toBe(429);
      // Client B has a bucket of its own.
      await expect(from('127.0.0.3', 'b-0')).resolves.toBe(200);
      // Straight to the replica, from an address it does not trust, claiming to be A: not A.
      await expect(
        from('127.0.0.4', 'direct-forged', `${limited.url}/users/1`, {
          'x-forwarded-for': '127.0.0.2',
        }),
      ).resolves.toBe(200);

      const clientIp = async (id: string) =>
        (
          await eventually(
            () =>
              jsonLines(limited.output()).find(
                (line) => line.request_id === id,
              ),
            Boolean,
            `the log line of ${id}`,
          )
        )?.client_ip;
      await expect(clientIp('a-0')).resolves.toBe('127.0.0.2');
      await expect(clientIp('a-forged')).resolves.toBe('127.0.0.2');
      await expect(clientIp('b-0')).resolves.toBe('127.0.0.3');
      await expect(clientIp('direct-forged')).resolves.toMatch(
        /^(::ffff:)?127\.0\.0\.4$/,
      );
    } finally {
      await limited.stop();
    }
  }, 120_000);

  it('answers problem+json itself when no replica can answer, for a GET and a POST', async () => {
    for (const method of ['GET', 'POST']) {
      const response = await fetch(`${lb.urls.gone}/users`, {
        method,
        headers: { 'Content-Type': 'application/json' },
        body: method === 'POST' ? '{"name":"N","email":"n@x.io"}' : undefined,
      });
      expect(response.status).toBe(502);
      expect(response.headers.get('content-type')).toBe(
        'application/problem+json',
      );
      expect(response.headers.get('retry-after')).toBe('1');
      await expect(response.json()).resolves.toEqual({
        type: 'about:blank',
        title: 'Bad Gateway',
        status: 502,
        detail:
          'No replica of the service could be reached; try again shortly.',
      });
    }
  });

  it('answers problem+json itself for a request it refuses before any replica sees it', async () => {
    const long = 'a'.repeat(9_000);
    const refused = [
      // Over nginx's 1 MB, far over the services' own 100 kB limit.
      [
        413,
        post(`${usersUrl}/users`, { name: long.repeat(250), email: 'a@b.io' }),
      ],
      [414, fetch(`${usersUrl}/users/${long}`)],
      [431, fetch(`${usersUrl}/users/1`, { headers: { 'X-Long': long } })],
      [404, fetch(`${usersUrl}/.load-balancer/bad_request`)],
    ] as const;
    for (const [status, answer] of refused) {
      const response = await answer;
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toBe(
        'application/problem+json',
      );
      await expect(response.json()).resolves.toMatchObject({
        type: 'about:blank',
        title: STATUS_CODES[status],
        status,
      });
    }
    const unreadable = await sendRaw(
      Number(new URL(usersUrl).port),
      'NOT HTTP\r\n\r\n',
    );
    expect(unreadable.head).toMatch(/^HTTP\/1\.1 400 /);
    expect(unreadable.head).toMatch(
      /\r\ncontent-type: application\/problem\+json\r\n/i,
    );
    expect(JSON.parse(unreadable.body)).toMatchObject({
      title: 'Bad Request',
      status: 400,
    });
  });

  it('loses no request through a rolling restart of every replica under mixed load', async () => {
    const load = mixedLoad({ users: usersUrl, orders: ordersUrl });
    try {
      await load.next(100);
      // One at a time, as an orchestrator rolls a release out: SIGTERM, the old process gone,
      // a new one ready and serving through nginx before the next is stopped.
      for (const [app, index] of [
        ['users', 0],
        ['users', 1],
        ['orders', 0],
        ['orders', 1],
      ] as const) {
        await expect(replicas[app][index].stop('SIGTERM')).resolves.toBe(0);
        const started = await startReplica(app, index);
        await waitUntilReady(started.url, 60_000);
        await eventually(
          () => served(started),
          (count) => count >= 20,
          `the new ${app} replica to serve through nginx`,
          { limitMs: 60_000 },
        );
      }
      await load.next(100);
    } finally {
      await load.stop();
    }
    const failed = load.outcomes.filter((outcome) => !isSuccess(outcome));
    expect({
      failed,
      errorLog: failed.length > 0 ? lb.errorLog() : '',
    }).toEqual({ failed: [], errorLog: '' });
    for (const route of MIXED_LOAD_ROUTES)
      expect(
        load.outcomes.filter((outcome) => outcome.route === route).length,
      ).toBeGreaterThan(20);
  }, 300_000);

  it('answers a fast PostgreSQL restart under mixed load with successes and 503 problem+json only, and every route within 2 s after', async () => {
    const load = mixedLoad({ users: usersUrl, orders: ordersUrl });
    let down = { stoppedAt: 0, backAt: 0 };
    try {
      await load.next(100);
      down = await postgres.restart(400);
      // Until every route has been answered for a request sent 2 s after PostgreSQL was back.
      await eventually(
        () => load.outcomes,
        (outcomes) =>
          MIXED_LOAD_ROUTES.every((route) =>
            outcomes.some(
              (outcome) =>
                outcome.route === route && outcome.sent > down.backAt + 2000,
            ),
          ),
        'every route answered 2 s after PostgreSQL was back',
        { limitMs: 60_000 },
      );
    } finally {
      await load.stop();
    }
    const failed = load.outcomes.filter((outcome) => !isSuccess(outcome));
    const downMs = down.backAt - down.stoppedAt;
    // The services' own answers, passed through: a problem with the service's request id. No
    // HTML, and nothing from nginx itself.
    expect({
      downMs,
      other: failed.filter(
        (outcome) =>
          outcome.status !== 503 ||
          outcome.type !== 'application/problem+json; charset=utf-8' ||
          !/"request_id":/.test(outcome.detail ?? ''),
      ),
    }).toEqual({ downMs, other: [] });
    // The load ran through the restart: requests were sent while PostgreSQL was down. PgBouncer
    // holds a request's queries until PostgreSQL is back (a query cut by the shutdown is a 503).
    expect(
      load.outcomes.filter(
        (outcome) =>
          outcome.sent >= down.stoppedAt && outcome.sent <= down.backAt,
      ).length,
    ).toBeGreaterThan(0);
    // All back within 2 s of PostgreSQL.
    expect(
      failed
        .filter((outcome) => outcome.sent > down.backAt + 2000)
        .map((outcome) => ({ ...outcome, sent: outcome.sent - down.backAt })),
    ).toEqual([]);
  }, 180_000);

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
