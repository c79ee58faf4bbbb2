import {
  BuiltApp,
  eventually,
  freePort,
  jsonLines,
  parsePrometheusText,
  sampleValue,
  startBuiltApp,
  startTcpProxy,
  TcpProxy,
} from '@app/testing';

/**
 * Orders showing users that change and leave, with both built apps as real processes: orders
 * reaches users through a TCP proxy the test can cut, as a users outage would.
 */
describe("orders' copies of users (real processes)", () => {
  let users: BuiltApp;
  let orders: BuiltApp | undefined;
  let proxy: TcpProxy;

  beforeEach(async () => {
    const port = await freePort();
    users = await startBuiltApp('users', port, { USERS_PORT: String(port) });
    proxy = await startTcpProxy({ host: '127.0.0.1', port });
  });

  afterEach(async () => {
    await orders?.stop();
    orders = undefined;
    await proxy.close();
    await users.stop();
  });

  async function startOrders(env: Record<string, string> = {}) {
    const port = await freePort();
    orders = await startBuiltApp('orders', port, {
      ORDERS_PORT: String(port),
      USERS_SERVICE_URL: `http://127.0.0.1:${proxy.port}`,
      // A dead users is noticed at once; no retries to wait out.
      USERS_SERVICE_TIMEOUT_MS: '1000',
      USERS_SERVICE_ATTEMPT_TIMEOUT_MS: '1000',
      USERS_SERVICE_RETRIES: '0',
      ...env,
    });
    return orders;
  }

  const getOrder = (id: number, requestId = `order-${id}`) =>
    fetch(`${orders!.url}/orders/${id}`, {
      headers: { 'x-request-id': requestId },
    });
  const metric = async (app: BuiltApp, name: string, labels: object) =>
    sampleValue(
      parsePrometheusText(await (await fetch(`${app.url}/metrics`)).text()),
      name,
      labels as Record<string, string>,
    );

  it('asks users on every call, sending If-None-Match: users answers 304 once orders holds a copy', async () => {
    await startOrders();
    for (let i = 0; i < 3; i++) expect((await getOrder(1)).status).toBe(200);
    const byStatus = (status: string) =>
      metric(users, 'http_request_duration_seconds_count', {
        route: '/users/:id',
        status_code: status,
      });
    await expect(byStatus('200')).resolves.toBe(1);
    await expect(byStatus('304')).resolves.toBe(2);
  });

  it("shows a user's change and an erasure at once: an erased user's order has user null, and no new order", async () => {
    await startOrders();
    await getOrder(1);
    await getOrder(2);
    const alice = await fetch(`${users.url}/users/1`);
    await fetch(`${users.url}/users/1`, {
      method: 'PATCH',
      headers: {
        'content-type': 'application/merge-patch+json',
        'if-match': alice.headers.get('etag')!,
      },
      body: JSON.stringify({ name: 'Alicia' }),
    });
    await expect((await getOrder(1)).json()).resolves.toMatchObject({
      user: { name: 'Alicia', email: 'alice@example.com' },
    });
    expect(
      (await fetch(`${users.url}/users/2`, { method: 'DELETE' })).status,
    ).toBe(204);
    await expect((await getOrder(2)).json()).resolves.toEqual({
      user_id: 2,
      product: 'Smartphone',
      user: null,
    });
    const created = await fetch(`${orders!.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: 2, product: 'Tablet' }),
    });
    expect(created.status).toBe(422);
    // The erased user's copy is gone too: with users down, there is nothing to show for them.
    await proxy.cut();
    expect((await getOrder(2)).status).toBe(503);
  });

  it('while users is down, shows the last confirmed copy within USERS_STALE_IF_ERROR_S, and says so', async () => {
    await startOrders({ USERS_STALE_IF_ERROR_S: '60' });
    await getOrder(1);
    await proxy.cut();
    const stale = await getOrder(1, 'stale-1');
    expect(stale.status).toBe(200);
    await expect(stale.json()).resolves.toEqual({
      user_id: 1,
      product: 'Laptop',
      user: { name: 'Alice', email: 'alice@example.com' },
    });
    expect(stale.headers.get('cache-status')).toMatch(
      /^orders; hit; ttl=-\d+; detail=stale-if-error$/,
    );
    await expect(
      metric(orders!, 'users_client_request_duration_seconds_count', {
        outcome: 'stale',
      }),
    ).resolves.toBe(1);
    await eventually(
      () => orders!.output(),
      (output) => output.includes('"request_id":"stale-1"'),
      'the request line',
    );
    expect(
      jsonLines(orders!.output()).find(
        (line) => line.request_id === 'stale-1' && line.status === 200,
      ),
    ).toMatchObject({ user_copy_age_s: expect.any(Number) });
    // A user never fetched has no copy: the failure stands.
    expect((await getOrder(2)).status).toBe(503);
  });

  it('answers as before once the copy is older than the window, or with the window 0', async () => {
    await startOrders({ USERS_STALE_IF_ERROR_S: '1' });
    await getOrder(1);
    await proxy.cut();
    expect((await getOrder(1)).status).toBe(200);
    await eventually(
      () => getOrder(1).then((response) => response.status),
      (status) => status === 503,
      'the copy to be too old',
      { limitMs: 5000, everyMs: 200 },
    );
    await proxy.restore();
    await orders!.stop();
    await startOrders({ USERS_STALE_IF_ERROR_S: '0' });
    await getOrder(1);
    await proxy.cut();
    const refused = await getOrder(1);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('cache-status')).toBeNull();
  });

  it('never creates an order on a copy: POST /orders answers 503 while users is down', async () => {
    await startOrders({ USERS_STALE_IF_ERROR_S: '60' });
    await getOrder(1);
    await proxy.cut();
    const created = await fetch(`${orders!.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: 1, product: 'Tablet' }),
    });
    expect(created.status).toBe(503);
    await proxy.restore();
    const list = await (await fetch(`${orders!.url}/orders`)).json();
    expect(list.total).toBe(2);
  });
});
