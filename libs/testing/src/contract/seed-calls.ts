/** What a call answered, as the seed README shows it. */
interface Answer {
  status: number;
  type: string | null;
  text: string;
}

/** Gives the Authorization header for a call to `audience` that needs `scope`. */
export type Authorize = (audience: string, scope: string) => Promise<string>;

/**
 * The seed README's four curl calls, in order, against a running pair, each expected to answer
 * exactly as the seed does. With `authorize`, each call carries the token its route needs.
 */
export async function expectSeedCalls(
  usersUrl: string,
  ordersUrl: string,
  authorize?: Authorize,
): Promise<void> {
  const call = async (
    url: string,
    audience: string,
    scope: string,
    body?: object,
  ): Promise<Answer> => {
    const response = await fetch(url, {
      method: body ? 'POST' : 'GET',
      headers: {
        ...(body && { 'Content-Type': 'application/json' }),
        ...(authorize && { Authorization: await authorize(audience, scope) }),
      },
      body: body && JSON.stringify(body),
    });
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      text: await response.text(),
    };
  };
  const json = (status: number, text: string): Answer => ({
    status,
    type: 'application/json; charset=utf-8',
    text,
  });
  // curl http://localhost:5001/users/1
  await expect(
    call(`${usersUrl}/users/1`, 'users', 'users:read'),
  ).resolves.toEqual(json(200, '{"name":"Alice","email":"alice@example.com"}'));
  // curl -X POST http://localhost:5001/users -d '{"name": "Charlie", "email": "charlie@example.com"}'
  await expect(
    call(`${usersUrl}/users`, 'users', 'users:write', {
      name: 'Charlie',
      email: 'charlie@example.com',
    }),
  ).resolves.toEqual(json(201, '{"user_id":3}'));
  // curl http://localhost:5002/orders/1
  await expect(
    call(`${ordersUrl}/orders/1`, 'orders', 'orders:read'),
  ).resolves.toEqual(
    json(
      200,
      '{"user_id":1,"product":"Laptop","user":{"name":"Alice","email":"alice@example.com"}}',
    ),
  );
  // curl -X POST http://localhost:5002/orders -d '{"user_id": 2, "product": "Tablet"}'
  await expect(
    call(`${ordersUrl}/orders`, 'orders', 'orders:write', {
      user_id: 2,
      product: 'Tablet',
    }),
  ).resolves.toEqual(json(201, '{"order_id":3}'));
}
