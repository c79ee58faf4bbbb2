import { INestApplication } from '@nestjs/common';
import {
  answer,
  createTestApp,
  expectProblem,
  StandInHandler,
  StandInServer,
  testConfig,
} from '@app/testing';
import request from 'supertest';
import { App } from 'supertest/types';
import { service } from '../src/app.module';
import { OrdersConfig } from '../src/orders.config';

const BOB = '{"name":"Bob","email":"bob@example.com"}';
const TABLET = { user_id: 2, product: 'Tablet' };

describe('POST /orders with Idempotency-Key (e2e)', () => {
  let app: INestApplication<App>;
  let users: StandInServer;
  let handler: StandInHandler;

  beforeEach(async () => {
    handler = answer(200, BOB);
    users = await StandInServer.start((req, res) => handler(req, res));
    app = await createTestApp(
      service.module(
        testConfig(OrdersConfig, {
          USERS_SERVICE_URL: users.url,
          USERS_SERVICE_RETRIES: 0,
        }),
      ),
    );
  });

  afterEach(async () => {
    await app.close();
    await users.close();
  });

  const create = (key: string) =>
    request(app.getHttpServer())
      .post('/orders')
      .set('Idempotency-Key', key)
      .send(TABLET);
  const total = async () =>
    (await request(app.getHttpServer()).get('/orders').expect(200)).body
      .total as number;

  it('replays the order without asking users again or storing another', async () => {
    await create('order-key').expect(201, { order_id: 3 });
    const again = await create('order-key').expect(201, { order_id: 3 });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(users.requests).toHaveLength(1);
    expect(await total()).toBe(3);
  });

  it('answers 409 for the same key while the first request still runs, and stores one order', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    handler = (req, res) =>
      void released.then(() => answer(200, BOB)(req, res));
    const first = create('order-key').then((r) => r);
    while (users.requests.length === 0)
      await new Promise((resolve) => setTimeout(resolve, 5));

    const second = await create('order-key');
    expectProblem(second, 409);
    expect(second.body.detail).toBe(
      'A request with this Idempotency-Key is still in progress',
    );
    expect(second.headers['retry-after']).toBe('1');

    release();
    expect((await first).status).toBe(201);
    await create('order-key').expect(201, { order_id: 3 });
    expect(await total()).toBe(3);
  });

  it('frees the key when users failed, so the retry of the POST can succeed', async () => {
    handler = answer(503, 'down', 'text/plain');
    expectProblem(await create('order-key'), 503);
    handler = answer(200, BOB);
    await create('order-key').expect(201, { order_id: 3 });
    expect(await total()).toBe(3);
  });
});
