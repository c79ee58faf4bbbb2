import {
  BuiltApp,
  createTestDatabase,
  eventually,
  freePort,
  Haproxy,
  HaNode,
  HaPostgres,
  LoadBalancer,
  queryTestDatabase,
  startBuiltApp,
  startHaPostgres,
  startHaproxy,
  startLoadBalancer,
  startTcpProxy,
  TestDatabase,
  waitUntilReady,
  steadyLoad,
  MIXED_LOAD_ROUTES,
  type MixedLoadRoute,
} from '@app/testing';
import { setTimeout as sleep } from 'node:timers/promises';

// The primary of a Patroni cluster (synchronous mode, etcd) is killed while 2 users and 2 orders
// replicas, behind nginx, reach it through HAProxy under mixed load; its synchronous standby is
// promoted. Nothing is restarted on the services' side.

/**
 * The longest a request may take before it counts as hung: far over the longest bound a request
 * has on its way (a connection in 2 s, a statement in 5 s, a users call in 2 s; a keyed create
 * goes to the database a few times), so a busy machine is slow here, not failing.
 */
const DEADLINE_MS = 20_000;
/** Every route answers again within this of the promotion. */
const BACK_WITHIN_MS = 15_000;
/** A key held by a request cut by the crash is free again after this (IDEMPOTENCY_LEASE_MS). */
const LEASE_MS = 2000;

interface Sent {
  route: MixedLoadRoute;
  method: 'GET' | 'POST';
  url: string;
  body?: Record<string, string | number>;
  headers?: Record<string, string>;
}

/** One request as its client saw it. */
interface Outcome {
  route: MixedLoadRoute;
  body?: Record<string, string | number>;
  status: number;
  type: string;
  retryAfter: string | null;
  replayed: boolean;
  text: string;
  /** `Date.now()` when it was sent and when its answer had arrived. */
  sent: number;
  done: number;
}

async function send(request: Sent): Promise<Outcome> {
  const sent = Date.now();
  const { route, method, url, body, headers = {} } = request;
  try {
    const response = await fetch(url, {
      method,
      headers: body ? { 'Content-Type': 'application/json', ...headers } : {},
      body: body && JSON.stringify(body),
      signal: AbortSignal.timeout(DEADLINE_MS),
    });
    return {
      route,
      body,
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      retryAfter: response.headers.get('retry-after'),
      replayed: response.headers.get('idempotent-replayed') === 'true',
      text: await response.text(),
      sent,
      done: Date.now(),
    };
  } catch (error) {
    const { name, cause } = error instanceof Error ? error : new Error();
    return {
      route,
      body,
      status: 0,
      type: '',
      retryAfter: null,
      replayed: false,
      text:
        name === 'TimeoutError'
          ? `no answer within ${DEADLINE_MS} ms`
          : String(cause ?? error),
      sent,
      done: Date.now(),
    };
  }
}

const isSuccess = (outcome: Outcome) =>
  outcome.status === (outcome.route.startsWith('POST') ? 201 : 200);
/** What a service answers while its database is away: its own problem, with when to try again. */
const isUnavailable = (outcome: Outcome) =>
  outcome.status === 503 &&
  outcome.type.startsWith('application/problem+json') &&
  outcome.retryAfter !== null &&
  /"request_id":/.test(outcome.text);

/** The id a 201 gives, as `{"user_id":3}` or `{"order_id":3}`. */
const createdId = (outcome: Outcome): number => {
  const parsed: unknown = JSON.parse(outcome.text);
  const id =
    typeof parsed === 'object' && parsed !== null
      ? Object.values(parsed)[0]
      : undefined;
  if (typeof id !== 'number') throw new Error(`no id in ${outcome.text}`);
  return id;
};

/** Clients sending every route of both services through nginx, one request after another. */
function mixedLoad(urls: { users: string; orders: string }, clients = 4) {
  let sequence = 0;
  const request = (route: MixedLoadRoute): Sent => {
    const n = sequence++;
    const id = (n % 2) + 1;
    switch (route) {
      case 'GET /users/:id':
        return { route, method: 'GET', url: `${urls.users}/users/${id}` };
      case 'POST /users':
        return {
          route,
          method: 'POST',
          url: `${urls.users}/users`,
          body: { name: `Failover ${n}`, email: `failover-${n}@x.io` },
        };
      case 'GET /orders/:id':
        return { route, method: 'GET', url: `${urls.orders}/orders/${id}` };
      case 'POST /orders':
        return {
          route,
          method: 'POST',
          url: `${urls.orders}/orders`,
          body: { user_id: id, product: `Failover ${n}` },
        };
      case 'GET /orders':
        return { route, method: 'GET', url: `${urls.orders}/orders?limit=1` };
    }
  };
  return steadyLoad(
    clients,
    (i) => send(request(MIXED_LOAD_ROUTES[i % MIXED_LOAD_ROUTES.length])),
    {
      limitMs: 120_000,
    },
  );
}

/** Runs `work` on each item, `width` at a time. */
async function inBatches<T, R>(
  items: T[],
  width: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += width)
    results.push(...(await Promise.all(items.slice(i, i + width).map(work))));
  return results;
}

describe('a failover of PostgreSQL (Patroni, synchronous standby, HAProxy) under mixed load on 2+2 replicas', () => {
  let ha: HaPostgres;
  let haproxy: Haproxy;
  let lb: LoadBalancer;
  let usersDb: TestDatabase;
  let ordersDb: TestDatabase;
  let primary: HaNode;
  let standby: HaNode;
  const replicas: BuiltApp[] = [];

  /** What the failover test saw, for the tests after it. */
  const seen: {
    load: Outcome[];
    keyed: { first: Outcome; retried: Outcome; again: Outcome }[];
    killedAt: number;
    promotedAt: number;
  } = { load: [], keyed: [], killedAt: 0, promotedAt: 0 };

  beforeAll(async () => {
    ha = await startHaPostgres();
    ({ primary, standby } = await ha.ready());
    haproxy = await startHaproxy(
      ha.nodes.map((node) => ({
        name: node.name,
        port: node.port,
        checkPort: node.apiPort,
      })),
    );
    // HAProxy starts with every server up, until their checks say otherwise.
    await eventually(
      () => haproxy.serversUp(),
      (up) => up.join() === primary.name,
      'HAProxy to send connections to the primary only',
      { limitMs: 30_000, everyMs: 100 },
    );
    // Created on the primary, through HAProxy, and reached that way by the services.
    const server = haproxy.url(primary.url);
    [usersDb, ordersDb] = await Promise.all([
      createTestDatabase(server),
      createTestDatabase(server),
    ]);
    const ports = {
      users: [await freePort(), await freePort()],
      orders: [await freePort(), await freePort()],
    };
    const url = (port: number) => `http://127.0.0.1:${port}`;
    lb = await startLoadBalancer({
      users: ports.users.map(url),
      orders: ports.orders.map(url),
    });
    const start = (app: 'users' | 'orders', port: number) =>
      startBuiltApp(
        app,
        port,
        {
          [app === 'users' ? 'USERS_PORT' : 'ORDERS_PORT']: String(port),
          DATABASE_URL: app === 'users' ? usersDb.url : ordersDb.url,
          USERS_SERVICE_URL: lb.urls.users,
          IDEMPOTENCY_LEASE_MS: String(LEASE_MS),
          TRUST_PROXY: '127.0.0.1',
        },
        { limitMs: 60_000 },
      );
    for (const app of ['users', 'orders'] as const) {
      const started = await Promise.all(
        ports[app].map(async (port) => {
          const replica = await start(app, port);
          // Kept as soon as it runs, so that afterAll stops it whatever fails next.
          replicas.push(replica);
          return replica;
        }),
      );
      await Promise.all(started.map((one) => waitUntilReady(one.url, 60_000)));
    }
  }, 300_000);

  afterAll(async () => {
    // Each step whatever the one before did: nothing is left running, no directory left behind.
    const quietly = async (stopping?: Promise<unknown>) => {
      await stopping?.catch(() => undefined);
    };
    await Promise.all(replicas.map((app) => quietly(app.stop('SIGKILL'))));
    await quietly(lb?.stop());
    await quietly(haproxy?.stop());
    await quietly(ha?.stop());
  }, 60_000);

  it('answers only successes and 503 problem+json with Retry-After, none past its deadline, and every route within 15 s of the promotion', async () => {
    const load = mixedLoad({ users: lb.urls.users, orders: lb.urls.orders });
    const keyed = (n: number): Sent =>
      n % 2 === 0
        ? {
            route: 'POST /users',
            method: 'POST',
            url: `${lb.urls.users}/users`,
            body: { name: `Keyed ${n}`, email: `keyed-${n}@x.io` },
            headers: { 'Idempotency-Key': `failover-user-${n}` },
          }
        : {
            route: 'POST /orders',
            method: 'POST',
            url: `${lb.urls.orders}/orders`,
            body: { user_id: 1, product: `Keyed ${n}` },
            headers: { 'Idempotency-Key': `failover-order-${n}` },
          };
    const keys = Array.from({ length: 12 }, (_, n) => keyed(n));
    let firsts: Outcome[] = [];
    try {
      await load.next(50);
      // Keyed creates answered before the primary dies, on their way when it dies, and sent
      // while it is dead.
      const answered = await Promise.all(keys.slice(0, 4).map(send));
      const onTheirWay = keys.slice(4, 8).map(send);
      seen.killedAt = await ha.crash(primary);
      await sleep(1000);
      const whileDead = keys.slice(8).map(send);
      seen.promotedAt = await ha.promoted(standby);
      firsts = [
        ...answered,
        ...(await Promise.all([...onTheirWay, ...whileDead])),
      ];
      // Until every route has been answered a few times for requests sent 15 s after the promotion.
      await eventually(
        () => load.outcomes,
        (outcomes) =>
          MIXED_LOAD_ROUTES.every(
            (route) =>
              outcomes.filter(
                (outcome) =>
                  outcome.route === route &&
                  outcome.sent > seen.promotedAt + BACK_WITHIN_MS,
              ).length >= 3,
          ),
        'every route answered after the promotion',
        { limitMs: 120_000, everyMs: 200 },
      );
    } finally {
      seen.load = await load.stop();
    }

    // The same keyed requests again, once the cluster is back, until the key is free of a lease
    // its request left when the primary died; then once more.
    for (const [n, request] of keys.entries()) {
      const retried = await eventually(
        () => send(request),
        (outcome) => outcome.status !== 503 && outcome.status !== 409,
        `the keyed ${request.route} ${n} answered`,
        { limitMs: 30_000, everyMs: 250 },
      );
      seen.keyed.push({
        first: firsts[n],
        retried,
        again: await send(request),
      });
    }

    const { load: outcomes, killedAt, promotedAt } = seen;
    const failed = outcomes.filter((outcome) => !isSuccess(outcome));
    const after = (outcome: Outcome) => outcome.sent - promotedAt;
    // Per route, when its answers were successes for good: the first success sent after its last
    // failure, from the promotion (negative: back before the poll saw the promotion).
    const back = Object.fromEntries(
      MIXED_LOAD_ROUTES.map((route) => {
        const mine = outcomes.filter(
          (outcome) => outcome.route === route && outcome.sent >= killedAt,
        );
        const lastFailure = Math.max(
          killedAt,
          ...mine
            .filter((outcome) => !isSuccess(outcome))
            .map((outcome) => outcome.sent),
        );
        const recovered = Math.min(
          ...mine
            .filter(
              (outcome) => isSuccess(outcome) && outcome.sent > lastFailure,
            )
            .map((outcome) => outcome.done),
        );
        return [route, recovered - promotedAt];
      }),
    );
    console.log(
      `failover: killed -> promoted ${promotedAt - killedAt} ms; promoted -> each route back (ms): ${JSON.stringify(back)}; ` +
        `${outcomes.length} requests, ${failed.length} answered 503; slowest answer ${Math.max(...outcomes.map((outcome) => outcome.done - outcome.sent))} ms; ` +
        `keyed creates first answered ${seen.keyed.map(({ first }) => first.status).join(',')}, retried ${seen.keyed.map(({ retried }) => (retried.replayed ? 'replayed' : retried.status)).join(',')}`,
    );

    // The load ran through the failover: requests were sent while no node was primary.
    expect(
      outcomes.filter(
        (outcome) => outcome.sent > killedAt && outcome.sent < promotedAt,
      ).length,
    ).toBeGreaterThan(0);
    // No 500, no network error, no hang: the services' own 503 only, with Retry-After.
    expect({
      other: failed.filter((outcome) => !isUnavailable(outcome)),
      haproxy: failed.some((outcome) => !isUnavailable(outcome))
        ? haproxy.output()
        : '',
    }).toEqual({ other: [], haproxy: '' });
    expect(
      [...outcomes, ...firsts].filter(
        (outcome) => outcome.done - outcome.sent >= DEADLINE_MS,
      ),
    ).toEqual([]);
    // Every route back within 15 s of the promotion: a success sent in that time, and nothing but
    // successes sent after it.
    for (const route of MIXED_LOAD_ROUTES)
      expect({
        route,
        answered: outcomes.some(
          (outcome) =>
            outcome.route === route &&
            isSuccess(outcome) &&
            after(outcome) >= 0 &&
            after(outcome) <= BACK_WITHIN_MS,
        ),
      }).toEqual({ route, answered: true });
    expect(
      failed
        .filter((outcome) => after(outcome) > BACK_WITHIN_MS)
        .map((outcome) => ({ ...outcome, sent: after(outcome) })),
    ).toEqual([]);
    // The keyed creates sent on their way and while dead: 503s or successes, never a 500.
    expect(
      firsts.filter(
        (outcome) => !isSuccess(outcome) && !isUnavailable(outcome),
      ),
    ).toEqual([]);
  }, 600_000);

  it('keeps every create it answered 201: each is read back as it was sent', async () => {
    const created = seen.load.filter(
      (outcome) => outcome.route.startsWith('POST') && isSuccess(outcome),
    );
    expect(created.length).toBeGreaterThan(20);
    const mismatched = await inBatches(created, 8, async (outcome) => {
      const id = createdId(outcome);
      const path =
        outcome.route === 'POST /users' ? `users/${id}` : `orders/${id}`;
      const base =
        outcome.route === 'POST /users' ? lb.urls.users : lb.urls.orders;
      const response = await fetch(`${base}/${path}`);
      const read: unknown = await response.json();
      const ok =
        response.status === 200 &&
        typeof read === 'object' &&
        read !== null &&
        Object.entries(outcome.body ?? {}).every(([field, value]) =>
          Object.entries(read).some(
            ([name, got]) => name === field && got === value,
          ),
        );
      return ok ? undefined : { path, status: response.status, read };
    });
    expect(mismatched.filter(Boolean)).toEqual([]);
  });

  it('stores no create twice', async () => {
    const users = await queryTestDatabase<{ email: string; n: number }>(
      usersDb.url,
      'select lower(email) as email, count(*)::int as n from users group by lower(email) having count(*) > 1',
    );
    const orders = await queryTestDatabase<{ product: string; n: number }>(
      ordersDb.url,
      'select product, count(*)::int as n from orders group by product having count(*) > 1',
    );
    expect({ users, orders }).toEqual({ users: [], orders: [] });
    // Nor gives one id to two creates.
    for (const route of ['POST /users', 'POST /orders'] as const) {
      const ids = seen.load
        .filter((outcome) => outcome.route === route && isSuccess(outcome))
        .map(createdId);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it('creates a keyed POST retried after the switch exactly once: created then, or the answer it had replayed', async () => {
    expect(seen.keyed).toHaveLength(12);
    // Those answered before the kill were created on the old primary: their answers, stored with
    // them and replicated synchronously, are what the new one replays.
    expect(seen.keyed.slice(0, 4).map(({ first }) => first.status)).toEqual([
      201, 201, 201, 201,
    ]);
    for (const { first, retried, again } of seen.keyed) {
      const key = first.body?.email ?? first.body?.product;
      expect({ key, status: retried.status }).toEqual({ key, status: 201 });
      // A create the client saw succeed is only replayed.
      if (isSuccess(first))
        expect({ key, replayed: retried.replayed, text: retried.text }).toEqual(
          { key, replayed: true, text: first.text },
        );
      expect({ key, replayed: again.replayed, text: again.text }).toEqual({
        key,
        replayed: true,
        text: retried.text,
      });
      const stored =
        first.route === 'POST /users'
          ? await queryTestDatabase(
              usersDb.url,
              'select id from users where email = $1',
              [first.body?.email],
            )
          : await queryTestDatabase(
              ordersDb.url,
              'select id from orders where product = $1',
              [first.body?.product],
            );
      expect({ key, stored: stored.length }).toEqual({ key, stored: 1 });
    }
  });

  it('answers 503 with Retry-After when its connections land on the old primary back as a standby, and writes as soon as the address moves, without a restart', async () => {
    // The killed node comes back; Patroni makes it a standby of the new primary.
    ha.revive(primary);
    await eventually(
      () => ha.role(primary),
      (role) => role === 'standby',
      `${primary.name} back as a standby`,
      { limitMs: 120_000, everyMs: 250 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${ha.output()}`);
    });
    // A replica whose address still leads to the old primary, as a managed database's DNS name
    // does until it moves: through a proxy the test re-points.
    const proxy = await startTcpProxy({
      host: '127.0.0.1',
      port: primary.port,
    });
    const direct = new URL(usersDb.url);
    direct.port = String(proxy.port);
    const port = await freePort();
    let pinned: BuiltApp | undefined;
    try {
      pinned = await startBuiltApp(
        'users',
        port,
        {
          USERS_PORT: String(port),
          DATABASE_URL: direct.toString(),
          // A standby cannot take migrations; a release step ran them.
          DATABASE_MIGRATE_AT_START: 'false',
        },
        { limitMs: 60_000 },
      );
      replicas.push(pinned);
      const { url } = pinned;
      await waitUntilReady(url, 60_000);
      const create = (n: number) =>
        send({
          route: 'POST /users',
          method: 'POST',
          url: `${url}/users`,
          body: { name: `Pinned ${n}`, email: `pinned-${n}@x.io` },
        });
      const read = await send({
        route: 'GET /users/:id',
        method: 'GET',
        url: `${url}/users/1`,
      });
      expect(read.status).toBe(200);
      const refused = await create(1);
      expect({
        status: refused.status,
        unavailable: isUnavailable(refused),
      }).toEqual({ status: 503, unavailable: true });

      proxy.pointTo({ host: '127.0.0.1', port: standby.port });
      // The connection that met the standby, and those opened before it, were let go: the next
      // request opens one to where the address leads now.
      const moved = await create(2);
      expect({ status: moved.status, text: moved.text }).toEqual({
        status: 201,
        text: expect.stringMatching(/^\{"user_id":\d+\}$/),
      });
    } finally {
      await pinned?.stop('SIGKILL');
      await proxy.close();
    }
  }, 300_000);
});
