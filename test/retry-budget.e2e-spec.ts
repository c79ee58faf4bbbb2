import {
  answer,
  BuiltApp,
  eventually,
  freePort,
  jsonLines,
  parsePrometheusText,
  sampleValue,
  StandInHandler,
  StandInServer,
  startBuiltApp,
} from '@app/testing';

const ALICE = '{"name":"Alice","email":"alice@example.com"}';
const healthy = answer(200, ALICE);
const unavailable = answer(503, 'database away', 'text/plain');

/**
 * The reserve of orders' retry budget (10 retries in any 10 s, whatever the calls): what users
 * may receive beyond the budget's share of the calls, per window the load spans. A window is at
 * least 9 s long (it slides by tenths), so a load of `elapsedMs` spans at most this many.
 */
const reserveWithin = (elapsedMs: number) =>
  10 * (Math.floor(elapsedMs / 9_000) + 1);

/**
 * Orders' retry budget towards users, with orders built and run as a real process (the budget is
 * per process) and users played by a stand-in server on loopback, answering 503 as users does
 * while its database is away.
 */
describe('the retry budget towards users (orders as a real process)', () => {
  let users: StandInServer | undefined;
  let orders: BuiltApp | undefined;

  afterEach(async () => {
    await orders?.stop();
    orders = undefined;
    await users?.close();
    users = undefined;
  });

  async function start(
    handler: StandInHandler,
    env: Record<string, string> = {},
  ): Promise<BuiltApp> {
    users = await StandInServer.start(handler);
    const port = await freePort();
    return (orders = await startBuiltApp('orders', port, {
      ORDERS_PORT: String(port),
      USERS_SERVICE_URL: users.url,
      // Backoffs short enough that a retried call ends well within the load.
      USERS_SERVICE_RETRY_DELAY_MS: '10',
      ...env,
    }));
  }

  /** The GETs of users that reached the stand-in. */
  const usersCalls = () =>
    users!.requests.filter((request) => request.url !== '/health/live').length;

  const getOrder = (app: BuiltApp, id: number, requestId: string) =>
    fetch(`${app.url}/orders/${id}`, {
      headers: { 'x-request-id': requestId },
    });

  const outcomes = async (app: BuiltApp) => {
    const samples = parsePrometheusText(
      await (await fetch(`${app.url}/metrics`)).text(),
    );
    const count = (outcome: string) =>
      sampleValue(samples, 'users_client_request_duration_seconds_count', {
        outcome,
      }) ?? 0;
    return {
      ok: count('ok'),
      unavailable: count('unavailable'),
      retryRefused: count('retry_refused'),
    };
  };

  /** The request line of each request whose id starts with `prefix`, once all `count` are written. */
  async function requestLines(app: BuiltApp, prefix: string, count: number) {
    const lines = () =>
      jsonLines(app.output()).filter(
        (line) =>
          typeof line.request_id === 'string' &&
          line.request_id.startsWith(prefix) &&
          line.route === '/orders/:id',
      );
    await eventually(
      () => lines().length,
      (written) => written === count,
      `${count} request lines`,
    );
    return lines();
  }

  it('holds users answering 503 to everything to about 1.2 calls per GET /orders/:id under steady load', async () => {
    const app = await start(unavailable);
    const total = 500;
    const concurrency = 10;
    let next = 0;
    const statuses: number[] = [];
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < total; i = next++) {
          const response = await getOrder(app, 1 + (i % 2), `storm-${i}`);
          await response.arrayBuffer();
          statuses.push(response.status);
        }
      }),
    );
    const elapsedMs = performance.now() - started;

    expect(statuses).toEqual(Array(total).fill(503));
    // Without the budget, every call is tried 3 times (3.00 calls per GET); with it, the calls
    // plus 20% of them, plus the reserve. It did retry: at least the reserve.
    const received = usersCalls();
    expect(received).toBeLessThanOrEqual(
      total * 1.2 + reserveWithin(elapsedMs),
    );
    expect(received).toBeGreaterThanOrEqual(total + 10);

    // Every call that stopped short of its retries says so: as its outcome, and on its line.
    const counted = await outcomes(app);
    expect(counted.retryRefused).toBeGreaterThan(0);
    expect(counted.retryRefused + counted.unavailable).toBe(total);
    const lines = await requestLines(app, 'storm-', total);
    expect(lines.every((line) => line.status === 503)).toBe(true);
    expect(
      lines.filter((line) => line.users_retry_refused === true),
    ).toHaveLength(counted.retryRefused);
    // Logged once: refusals and allowed retries alternate call by call, and are not news each time.
    expect(
      app
        .output()
        .split(
          'Retry budget to the users service spent: failed calls are not all retried for now',
        ),
    ).toHaveLength(2);
  });

  it('still retries a single transient 503 at low load into a 200', async () => {
    let failNext = false;
    // No copy may stand in for users: only a retry can make the failed call a 200.
    const app = await start(
      (request, response) => {
        if (failNext && request.url !== '/health/live') {
          failNext = false;
          unavailable(request, response);
        } else healthy(request, response);
      },
      { USERS_STALE_IF_ERROR_S: '0' },
    );
    // A few calls: their 20% make less than one retry, so only the reserve can retry the 503.
    for (let i = 0; i < 3; i++)
      expect((await getOrder(app, 1, `quiet-${i}`)).status).toBe(200);
    expect(usersCalls()).toBe(3);

    failNext = true;
    const retried = await getOrder(app, 1, 'quiet-transient');
    expect(retried.status).toBe(200);
    await expect(retried.json()).resolves.toEqual({
      user_id: 1,
      product: 'Laptop',
      user: JSON.parse(ALICE),
    });
    expect(retried.headers.get('cache-status')).toBeNull();
    // The 503, then the retry.
    expect(usersCalls()).toBe(5);
    await expect(outcomes(app)).resolves.toEqual({
      ok: 4,
      unavailable: 0,
      retryRefused: 0,
    });
    const [line] = (await requestLines(app, 'quiet-', 4)).filter(
      (l) => l.request_id === 'quiet-transient',
    );
    expect(line).not.toHaveProperty('users_retry_refused');
  });
});
