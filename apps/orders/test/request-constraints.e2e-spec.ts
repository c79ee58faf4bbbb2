import { INestApplication } from '@nestjs/common';
import {
  answer,
  createTestApp,
  requestConstraintCases,
  StandInServer,
  testConfig,
  unexpectedAnswers,
  validOpenApiDocument,
} from '@app/testing';
import { App } from 'supertest/types';
import { service } from '../src/app.module';
import { OrdersConfig } from '../src/orders.config';

describe('orders app: every documented request constraint, from both sides (e2e)', () => {
  let app: INestApplication<App>;
  let users: StandInServer;

  beforeAll(async () => {
    // A users service that knows every id, so that only orders' own rules decide.
    users = await StandInServer.start(
      answer(200, '{"name":"Alice","email":"alice@example.com"}'),
    );
    app = await createTestApp(
      service.module(
        testConfig(OrdersConfig, { USERS_SERVICE_URL: users.url }),
      ),
    );
  });

  afterAll(async () => {
    await app.close();
    await users.close();
  });

  it('answers 400 just outside each constraint and serves just inside it', async () => {
    const cases = requestConstraintCases(await validOpenApiDocument(app), {
      'GET /orders/{id}': { params: { id: 1 } },
      'POST /orders': { body: () => ({ user_id: 2, product: 'Tablet' }) },
      'GET /orders': {},
    });
    expect(cases.map((c) => c.title)).toEqual(
      expect.arrayContaining([
        'GET /orders/{id}: path id below minimum 1',
        'GET /orders: query user_id above maximum 9007199254740991',
        'GET /orders: query offset maximum 9007199254740991',
        'POST /orders: header Idempotency-Key shorter than 1',
        'POST /orders: body user_id above maximum 9007199254740991',
        'POST /orders: body user_id not an integer',
        'POST /orders: body product longer than 200',
        'POST /orders: body product with U+0000, against its pattern',
        'POST /orders: body product with U+007F, against its pattern',
        'POST /orders: body without required product',
        'POST /orders: body with a field not in its schema',
      ]),
    );
    await expect(
      unexpectedAnswers(app.getHttpServer(), cases),
    ).resolves.toEqual([]);
  });
});
