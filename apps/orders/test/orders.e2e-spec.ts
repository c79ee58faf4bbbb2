import { INestApplication } from '@nestjs/common';
import {
  answer,
  createTestApp,
  expectProblem,
  hang,
  refusedUrl,
  StandInHandler,
  StandInServer,
  testConfig,
} from '@app/testing';
import request from 'supertest';
import { App } from 'supertest/types';
import { service } from '../src/app.module';
import { OrdersConfig } from '../src/orders.config';
import type { OrdersRepository } from '../src/orders/orders.repository';
import { ORDERS_REPOSITORY } from '../src/orders/orders.repository';

const ALICE = { name: 'Alice', email: 'alice@example.com' };
const BOB = { name: 'Bob', email: 'bob@example.com' };
const TIMEOUT_MS = 300;

/** Plays a healthy users app that knows these users. */
function usersApp(users: Map<number, object>): StandInHandler {
  return (request, response) => {
    const id = Number(/^\/users\/(\d+)$/.exec(request.url ?? '')?.[1]);
    const user = users.get(id);
    if (!user) {
      response.writeHead(404, { 'content-type': 'application/problem+json' });
      response.end(
        JSON.stringify({
          type: 'about:blank',
          title: 'Not Found',
          status: 404,
          detail: `User ${id} not found`,
        }),
      );
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(user));
  };
}

function ordersConfig(usersUrl: string): OrdersConfig {
  return testConfig(OrdersConfig, {
    USERS_SERVICE_URL: usersUrl,
    USERS_SERVICE_TIMEOUT_MS: TIMEOUT_MS,
    USERS_SERVICE_ATTEMPT_TIMEOUT_MS: TIMEOUT_MS,
    USERS_SERVICE_RETRY_DELAY_MS: 10,
  });
}

describe('orders app (e2e)', () => {
  let app: INestApplication<App>;
  let users: StandInServer;
  let known: Map<number, object>;

  async function boot(usersUrl: string): Promise<void> {
    app = await createTestApp(service.module(ordersConfig(usersUrl)));
  }

  afterEach(async () => {
    await app?.close();
    await users?.close();
  });

  const http = () => request(app.getHttpServer());
  const createOrder = (body: unknown) =>
    http()
      .post('/orders')
      .send(body as object);

  describe('with a healthy users app', () => {
    beforeEach(async () => {
      known = new Map<number, object>([
        [1, ALICE],
        [2, BOB],
      ]);
      users = await StandInServer.start(usersApp(known));
      await boot(users.url);
    });

    async function expectNextOrderId(id: number): Promise<void> {
      const list = await http().get('/orders').expect(200);
      expect(list.body.total).toBe(id - 1);
      await createOrder({ user_id: 1, product: 'Probe' }).expect(201, {
        order_id: id,
      });
    }

    describe('GET /orders/:id', () => {
      it('answers the seed body for order 1, exactly, with the user from the users app', async () => {
        const response = await http().get('/orders/1').expect(200);
        expect(response.text).toBe(
          '{"user_id":1,"product":"Laptop","user":{"name":"Alice","email":"alice@example.com"}}',
        );
        expect(users.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
          'GET /users/1',
        ]);
      });

      it('answers order 2 with Bob', async () => {
        await http()
          .get('/orders/2')
          .expect(200, { user_id: 2, product: 'Smartphone', user: BOB });
      });

      it('asks the users app on every request, so a changed user shows at once', async () => {
        await http().get('/orders/1').expect(200);
        known.set(1, { name: 'Alice Liddell', email: 'alice@example.com' });
        await http()
          .get('/orders/1')
          .expect(200, {
            user_id: 1,
            product: 'Laptop',
            user: { name: 'Alice Liddell', email: 'alice@example.com' },
          });
        expect(users.requests).toHaveLength(2);
      });

      it('answers user null when the users app no longer knows the user', async () => {
        known.delete(1);
        await http()
          .get('/orders/1')
          .expect(200, { user_id: 1, product: 'Laptop', user: null });
      });

      it('passes on only the contract fields of the user', async () => {
        known.set(1, { ...ALICE, password_hash: 'secret', role: 'admin' });
        await http()
          .get('/orders/1')
          .expect(200, { user_id: 1, product: 'Laptop', user: ALICE });
      });

      it('answers 404 naming an unknown order, without calling the users app', async () => {
        const response = await http().get('/orders/42');
        expectProblem(response, 404);
        expect(response.body.detail).toContain('42');
        expect(users.requests).toHaveLength(0);
      });

      it.each(['0', '-3', 'x', '2.0', '1e2'])(
        'answers 400 for the id %p',
        async (id) => {
          const response = await http().get(`/orders/${id}`);
          expectProblem(response, 400);
          expect(response.body.errors).toEqual([
            { field: 'id', message: 'id must be a positive integer' },
          ]);
        },
      );

      it('reuses one connection to the users app (keep-alive)', async () => {
        for (let i = 0; i < 5; i++) await http().get('/orders/1').expect(200);
        expect(users.requests).toHaveLength(5);
        expect(users.connections).toBe(1);
      });
    });

    describe('POST /orders', () => {
      it('creates the seed order 3 for Bob, after checking Bob exists, and reads it back', async () => {
        const response = await http()
          .post('/orders')
          .set('Content-Type', 'application/json')
          .send('{"user_id": 2, "product": "Tablet"}')
          .expect(201);
        expect(response.text).toBe('{"order_id":3}');
        expect(users.requests.map((r) => r.url)).toEqual(['/users/2']);
        await http()
          .get('/orders/3')
          .expect(200, { user_id: 2, product: 'Tablet', user: BOB });
      });

      it('answers 422 naming an unknown user, and stores nothing', async () => {
        const response = await createOrder({ user_id: 77, product: 'Tablet' });
        expectProblem(response, 422);
        expect(response.body.detail).toContain('77');
        // A client maps errors to its form's fields, as for a 400.
        expect(response.body.errors).toEqual([
          { field: 'user_id', message: 'user 77 does not exist' },
        ]);
        await expectNextOrderId(3);
      });

      it.each([
        [
          'a user_id given as a string',
          { user_id: '2', product: 'X' },
          'user_id',
          'user_id must be an integer number',
        ],
        [
          'a float user_id',
          { user_id: 2.5, product: 'X' },
          'user_id',
          'user_id must be an integer number',
        ],
        [
          'a user_id of 0',
          { user_id: 0, product: 'X' },
          'user_id',
          'user_id must not be less than 1',
        ],
        [
          'a negative user_id',
          { user_id: -2, product: 'X' },
          'user_id',
          'user_id must not be less than 1',
        ],
        [
          'a missing user_id',
          { product: 'X' },
          'user_id',
          'user_id is required',
        ],
        ['a missing product', { user_id: 2 }, 'product', 'product is required'],
        [
          'a blank product',
          { user_id: 2, product: ' \t ' },
          'product',
          'product should not be empty',
        ],
        [
          'a product that is not a string',
          { user_id: 2, product: ['X'] },
          'product',
          'product must be a string',
        ],
        [
          'a product over 200 characters',
          { user_id: 2, product: 'p'.repeat(201) },
          'product',
          'product must be shorter than or equal to 200 characters',
        ],
        [
          'a client-chosen order_id',
          { user_id: 2, product: 'X', order_id: 9 },
          'order_id',
          'property order_id should not exist',
        ],
        [
          'an embedded user',
          { user_id: 2, product: 'X', user: BOB },
          'user',
          'property user should not exist',
        ],
      ])(
        'answers 400 for %s without asking the users app, and stores nothing',
        async (_case, body, field, message) => {
          const response = await createOrder(body);
          expectProblem(response, 400);
          expect(response.body.errors).toEqual([{ field, message }]);
          expect(users.requests).toHaveLength(0);
          await expectNextOrderId(3);
        },
      );

      it.each([
        ['malformed JSON', 'application/json', '{"user_id": 2'],
        [
          'a JSON array',
          'application/json',
          '[{"user_id": 2, "product": "X"}]',
        ],
        ['a JSON scalar', 'application/json', '2'],
      ])('answers 400 for %s and stores nothing', async (_case, type, body) => {
        const response = await http()
          .post('/orders')
          .set('Content-Type', type)
          .send(body);
        expectProblem(response, 400);
        await expectNextOrderId(3);
      });

      it('answers 413 for a body over 100 kB and stores nothing', async () => {
        const response = await createOrder({
          user_id: 2,
          product: 'p'.repeat(120 * 1024),
        });
        expectProblem(response, 413);
        await expectNextOrderId(3);
      });

      it('answers 415 for a body that is not JSON and stores nothing', async () => {
        const response = await http()
          .post('/orders')
          .set('Content-Type', 'text/csv')
          .send('2,Tablet');
        expectProblem(response, 415);
        await expectNextOrderId(3);
      });

      it('gives parallel creates unique, consecutive ids that all read back', async () => {
        const count = 40;
        const responses = await Promise.all(
          Array.from({ length: count }, (_, i) =>
            createOrder({ user_id: (i % 2) + 1, product: `Item ${i}` }),
          ),
        );
        const ids = responses.map((r) => {
          expect(r.status).toBe(201);
          return r.body.order_id as number;
        });
        expect([...ids].sort((a, b) => a - b)).toEqual(
          Array.from({ length: count }, (_, i) => i + 3),
        );
        const list = await http().get('/orders?limit=100').expect(200);
        expect(list.body.total).toBe(count + 2);
        ids.forEach((id, i) => {
          expect(list.body.items).toContainEqual({
            order_id: id,
            user_id: (i % 2) + 1,
            product: `Item ${i}`,
          });
        });
      });
    });

    describe('GET /orders', () => {
      it('lists the seed orders without calling the users app', async () => {
        await http()
          .get('/orders')
          .expect(200, {
            items: [
              { order_id: 1, user_id: 1, product: 'Laptop' },
              { order_id: 2, user_id: 2, product: 'Smartphone' },
            ],
            total: 2,
            limit: 50,
            offset: 0,
          });
        expect(users.requests).toHaveLength(0);
      });

      it("filters by user_id and pages within one user's orders", async () => {
        await createOrder({ user_id: 2, product: 'Tablet' }).expect(201);
        await createOrder({ user_id: 1, product: 'Mouse' }).expect(201);
        await http()
          .get('/orders?user_id=2')
          .expect(200, {
            items: [
              { order_id: 2, user_id: 2, product: 'Smartphone' },
              { order_id: 3, user_id: 2, product: 'Tablet' },
            ],
            total: 2,
            limit: 50,
            offset: 0,
          });
        await http()
          .get('/orders?user_id=2&limit=1&offset=1')
          .expect(200, {
            items: [{ order_id: 3, user_id: 2, product: 'Tablet' }],
            total: 2,
            limit: 1,
            offset: 1,
          });
      });

      it.each([
        ['user_id=0', 'user_id', 'user_id must not be less than 1'],
        ['user_id=two', 'user_id', 'user_id must be an integer number'],
        ['limit=101', 'limit', 'limit must not be greater than 100'],
        ['offset=x', 'offset', 'offset must be an integer number'],
        ['product=Laptop', 'product', 'property product should not exist'],
      ])('answers 400 for ?%s', async (query, field, message) => {
        const response = await http().get(`/orders?${query}`);
        expectProblem(response, 400);
        expect(response.body.errors).toEqual([{ field, message }]);
      });
    });

    it('answers 405 with Allow for a wrong method', async () => {
      const response = await http().patch('/orders/1').send({ product: 'X' });
      expectProblem(response, 405);
      expect(response.headers.allow).toBe('GET, HEAD');
    });
  });

  describe('when the users app fails', () => {
    beforeEach(() => {
      known = new Map<number, object>([
        [1, ALICE],
        [2, BOB],
      ]);
    });

    /** After a failed POST: still two orders, and the store's next id is still 3. */
    async function expectNoOrderStored(): Promise<void> {
      const list = await http().get('/orders').expect(200);
      expect(list.body.total).toBe(2);
      const repository = app.get<OrdersRepository>(ORDERS_REPOSITORY);
      await expect(
        repository.create({ userId: 1, product: 'Probe' }),
      ).resolves.toMatchObject({ id: 3 });
    }

    /** Each answer's detail, exactly: it is what tells a client which failure of users it met. */
    const DETAIL: Record<number, string> = {
      502: 'The users service gave an invalid answer',
      503: 'The users service is unavailable',
      504: `The users service did not answer within ${TIMEOUT_MS} ms`,
    };

    const cases: [string, () => Promise<string>, number, string?][] = [
      ['is unreachable (connection refused)', () => refusedUrl(), 503],
      [
        'cannot be resolved (DNS)',
        async () => 'http://users.invalid:5001',
        503,
      ],
      [
        'answers 500',
        async () =>
          (users = await StandInServer.start(answer(500, '{"error":"boom"}')))
            .url,
        502,
      ],
      [
        'answers 503 (up, but unable to serve for now)',
        async () =>
          (users = await StandInServer.start(answer(503, 'busy', 'text/plain')))
            .url,
        503,
        'The users service is unavailable for now',
      ],
      [
        'answers 400',
        async () => (users = await StandInServer.start(answer(400, '{}'))).url,
        502,
      ],
      [
        'answers a body that is not JSON',
        async () =>
          (users = await StandInServer.start(
            answer(200, '<html>hi</html>', 'text/html'),
          )).url,
        502,
      ],
      [
        'answers truncated JSON',
        async () =>
          (users = await StandInServer.start(answer(200, '{"name":"Alice",')))
            .url,
        502,
      ],
      [
        'answers JSON of the wrong shape',
        async () =>
          (users = await StandInServer.start(
            answer(200, '{"username":"alice"}'),
          )).url,
        502,
      ],
      [
        'answers a user whose name is not a string',
        async () =>
          (users = await StandInServer.start(
            answer(200, '{"name":7,"email":"a@b.c"}'),
          )).url,
        502,
      ],
      [
        'answers a JSON array',
        async () =>
          (users = await StandInServer.start(
            answer(200, '[{"name":"Alice","email":"alice@example.com"}]'),
          )).url,
        502,
      ],
      [
        'answers JSON null',
        async () =>
          (users = await StandInServer.start(answer(200, 'null'))).url,
        502,
      ],
      // Only a 200 says "this is the user": the body of any other answer is not taken for one.
      [
        'answers 401 with a user in its body',
        async () =>
          (users = await StandInServer.start(answer(401, JSON.stringify(BOB))))
            .url,
        502,
      ],
      [
        'redirects (302) with a user in its body',
        async () =>
          (users = await StandInServer.start((request, response) => {
            response.writeHead(302, {
              location: request.url,
              'content-type': 'application/json',
            });
            response.end(JSON.stringify(BOB));
          })).url,
        502,
      ],
    ];

    describe.each(cases)('and %s', (_case, usersUrl, status, detail) => {
      beforeEach(async () => {
        await boot(await usersUrl());
      });

      it(`answers GET /orders/:id with ${status}`, async () => {
        const response = await http().get('/orders/1');
        expectProblem(response, status);
        expect(response.body.detail).toBe(detail ?? DETAIL[status]);
      });

      it(`answers POST /orders with ${status} and stores nothing`, async () => {
        const response = await createOrder({ user_id: 2, product: 'Tablet' });
        expectProblem(response, status);
        expect(response.body.detail).toBe(detail ?? DETAIL[status]);
        await expectNoOrderStored();
      });

      it('still lists orders, which need no users app', async () => {
        const response = await http().get('/orders').expect(200);
        expect(response.body.total).toBe(2);
      });
    });

    describe('and hangs', () => {
      beforeEach(async () => {
        users = await StandInServer.start(hang);
        await boot(users.url);
      });

      it(`answers GET /orders/:id with 504 once the ${TIMEOUT_MS} ms timeout has passed, not later`, async () => {
        const started = performance.now();
        const response = await http().get('/orders/1');
        const elapsed = performance.now() - started;
        expectProblem(response, 504);
        expect(response.body.detail).toBe(DETAIL[504]);
        expect(users.requests).toHaveLength(1);
        expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
        // A generous bound: the point is that it does not hang, not how fast the machine is.
        expect(elapsed).toBeLessThan(TIMEOUT_MS + 2000);
      });

      it('answers POST /orders with 504 and stores nothing', async () => {
        const response = await createOrder({ user_id: 2, product: 'Tablet' });
        expectProblem(response, 504);
        expect(response.body.detail).toBe(DETAIL[504]);
        await expectNoOrderStored();
      });
    });

    it('answers a body that trickles in past the deadline with 504', async () => {
      users = await StandInServer.start((_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write('{"name":');
        // The rest never comes, though the headers did.
      });
      await boot(users.url);
      expectProblem(await http().get('/orders/1'), 504);
    });

    it('starts without the users app and recovers by itself when it comes up', async () => {
      const url = await refusedUrl();
      await boot(url);
      expectProblem(await http().get('/orders/1'), 503);
      users = await StandInServer.start(
        usersApp(known),
        Number(new URL(url).port),
      );
      await http()
        .get('/orders/1')
        .expect(200, { user_id: 1, product: 'Laptop', user: ALICE });
    });
  });
});
