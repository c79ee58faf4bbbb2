import {
  BuiltApp,
  eventually,
  expectSeedCalls,
  freePort,
  IdentityProvider,
  jsonLines,
  startBuiltApp,
} from '@app/testing';

/**
 * Both built apps as real processes, orders calling users over real HTTP, walked through the seed
 * README's four curl calls with their exact responses, then a little further.
 */
describe('the seed README, against both built apps', () => {
  let users: BuiltApp;
  let orders: BuiltApp;
  let usersPort: number;

  const startUsers = async () =>
    (users = await startBuiltApp('users', usersPort, {
      USERS_PORT: String(usersPort),
    }));

  beforeAll(async () => {
    usersPort = await freePort();
    const ordersPort = await freePort();
    await startUsers();
    orders = await startBuiltApp('orders', ordersPort, {
      ORDERS_PORT: String(ordersPort),
      USERS_SERVICE_URL: users.url,
    });
  });

  afterAll(async () => {
    await orders?.stop();
    await users?.stop();
  });

  async function call(
    url: string,
    body?: object,
  ): Promise<{ status: number; type: string | null; text: string }> {
    const response = await fetch(url, {
      method: body ? 'POST' : 'GET',
      headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body && JSON.stringify(body),
    });
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      text: await response.text(),
    };
  }

  it('answers each seed call with the seed response, in order', async () => {
    await expectSeedCalls(users.url, orders.url);
  });

  it('creates a user, an order for that user, and shows the user on the order', async () => {
    const created = await call(`${users.url}/users`, {
      name: 'Dana',
      email: 'dana@example.com',
    });
    expect(created.status).toBe(201);
    const { user_id } = JSON.parse(created.text);
    const order = await call(`${orders.url}/orders`, {
      user_id,
      product: 'Headphones',
    });
    expect(order.status).toBe(201);
    const { order_id } = JSON.parse(order.text);
    const read = await call(`${orders.url}/orders/${order_id}`);
    expect(JSON.parse(read.text)).toEqual({
      user_id,
      product: 'Headphones',
      user: { name: 'Dana', email: 'dana@example.com' },
    });
    const list = await call(`${orders.url}/orders?user_id=${user_id}`);
    expect(JSON.parse(list.text)).toEqual({
      items: [{ order_id, user_id, product: 'Headphones' }],
      total: 1,
      limit: 50,
      offset: 0,
    });
  });

  it('refuses an order for a user the users app does not know, with 422', async () => {
    const response = await call(`${orders.url}/orders`, {
      user_id: 999,
      product: 'Ghost',
    });
    expect(response.status).toBe(422);
    expect(response.type).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(response.text).detail).toBe('User 999 does not exist');
  });

  it('survives a users restart: the last copy while it is down, then user null for a forgotten user', async () => {
    const created = await call(`${users.url}/users`, {
      name: 'Eve',
      email: 'eve@example.com',
    });
    const { user_id } = JSON.parse(created.text);
    const { order_id } = JSON.parse(
      (await call(`${orders.url}/orders`, { user_id, product: 'Keyboard' }))
        .text,
    );

    await users.stop();
    // Users confirmed Eve when the order was created: her copy stands in, marked.
    const down = await fetch(`${orders.url}/orders/${order_id}`);
    expect(down.status).toBe(200);
    expect(down.headers.get('cache-status')).toMatch(/detail=stale-if-error$/);
    await expect(down.json()).resolves.toMatchObject({
      user: { name: 'Eve', email: 'eve@example.com' },
    });

    await startUsers();
    await expect(
      call(`${orders.url}/orders/${order_id}`),
    ).resolves.toMatchObject({
      status: 200,
      text: `{"user_id":${user_id},"product":"Keyboard","user":null}`,
    });
    // The seed users come back with the users app.
    await expect(call(`${orders.url}/orders/1`)).resolves.toMatchObject({
      status: 200,
    });
  });

  it('serves the API docs from the bundle: Swagger UI, its files, and the document', async () => {
    for (const app of [users, orders]) {
      await expect(call(`${app.url}/docs`)).resolves.toMatchObject({
        status: 200,
        type: expect.stringMatching(/^text\/html/),
      });
      await expect(
        call(`${app.url}/docs/swagger-ui.css`),
      ).resolves.toMatchObject({
        status: 200,
        type: expect.stringMatching(/^text\/css/),
      });
      const document = await call(`${app.url}/openapi.json`);
      expect(JSON.parse(document.text).openapi).toMatch(/^3\./);
    }
  });

  it('keeps Idempotency-Keys per app: one key on both POSTs creates a user and an order', async () => {
    const post = (url: string, body: object) =>
      fetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Idempotency-Key': 'shared-key-1',
        },
        body: JSON.stringify(body),
      });
    const user = await post(`${users.url}/users`, {
      name: 'Fay',
      email: 'fay@example.com',
    });
    expect(user.status).toBe(201);
    const { user_id } = await user.json();
    const order = await post(`${orders.url}/orders`, {
      user_id,
      product: 'Lamp',
    });
    expect(order.status).toBe(201);
    expect(order.headers.get('idempotent-replayed')).toBeNull();
  });
});

describe('the seed README with authentication on, against both built apps', () => {
  let idp: IdentityProvider;
  let users: BuiltApp;
  let orders: BuiltApp;

  beforeAll(async () => {
    idp = await IdentityProvider.start();
    const [usersPort, ordersPort] = [await freePort(), await freePort()];
    users = await startBuiltApp('users', usersPort, {
      USERS_PORT: String(usersPort),
      AUTH_ISSUER: idp.issuer,
      AUTH_AUDIENCE: 'users',
    });
    orders = await startBuiltApp('orders', ordersPort, {
      ORDERS_PORT: String(ordersPort),
      USERS_SERVICE_URL: users.url,
      AUTH_ISSUER: idp.issuer,
      AUTH_AUDIENCE: 'orders',
      ...idp.usersServiceIdentity(),
    });
  });

  afterAll(async () => {
    await orders?.stop();
    await users?.stop();
    await idp?.close();
  });

  it('answers the four calls exactly, each with a token carrying its scope; refuses them without', async () => {
    const issued: string[] = [];
    await expect(fetch(`${users.url}/users/1`)).resolves.toMatchObject({
      status: 401,
    });
    await expectSeedCalls(users.url, orders.url, async (aud, scope) => {
      const token = await idp.token({
        aud,
        scope,
        sub: 'alice',
        claims: { client_id: 'shop-web' },
      });
      issued.push(token);
      return `Bearer ${token}`;
    });

    // Orders called users with its own identity, fetched once; the logs say who, never the token.
    expect(idp.tokenRequests.map((r) => r.clientId)).toEqual(['orders']);
    const logged = (app: BuiltApp, route: string) =>
      jsonLines(app.output()).filter(
        (line) => line.msg === 'request completed' && line.route === route,
      );
    await eventually(
      () => logged(users, '/users/:id').length,
      (lines) => lines >= 3,
      'the users request lines',
    );
    expect(logged(users, '/users/:id')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ sub: 'alice', client_id: 'shop-web' }),
        expect.objectContaining({ sub: 'orders', client_id: 'orders' }),
      ]),
    );
    // Lines leave in batches (at the latest 25 ms after they are logged): wait for orders' too.
    await eventually(
      () => logged(orders, '/orders/:id').length,
      (lines) => lines >= 1,
      'the orders request line',
    );
    expect(logged(orders, '/orders/:id')).toEqual([
      expect.objectContaining({ sub: 'alice', client_id: 'shop-web' }),
    ]);
    for (const token of issued)
      expect(users.output() + orders.output()).not.toContain(
        token.split('.')[2],
      );
  });
});
