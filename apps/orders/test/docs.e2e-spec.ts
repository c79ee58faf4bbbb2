import { INestApplication } from '@nestjs/common';
import {
  answer,
  createTestApp,
  responseValidator,
  StandInServer,
  documentedStatuses,
  expectEveryServedRouteDocumented,
  expectNoValidRequestRefused,
  expectReadyForGenerators,
  operationIds,
  testConfig,
  validOpenApiDocument,
} from '@app/testing';
import type { OpenAPIV3 } from 'openapi-types';
import request from 'supertest';
import { service } from '../src/app.module';
import { OrdersConfig } from '../src/orders.config';

describe('orders API docs (e2e)', () => {
  let app: INestApplication;
  let document: OpenAPIV3.Document;

  beforeAll(async () => {
    app = await createTestApp(service.module(testConfig(OrdersConfig)));
    document = await validOpenApiDocument(app);
  });

  afterAll(async () => {
    await app.close();
  });

  it('lists every route with every status it can answer, the users failures included', () => {
    expect(documentedStatuses(document)).toEqual({
      'GET /health/live': ['200'],
      'GET /health/ready': ['200', '503'],
      'GET /metrics': ['200'],
      'GET /orders/{id}': [
        '200',
        '400',
        '404',
        '429',
        '500',
        '502',
        '503',
        '504',
      ],
      'POST /orders': [
        '201',
        '400',
        '409',
        '413',
        '415',
        '422',
        '429',
        '500',
        '502',
        '503',
        '504',
      ],
      'GET /orders': ['200', '400', '429', '500'],
    });
  });

  it('documents every route the app serves', () => {
    expectEveryServedRouteDocumented(app, document);
  });

  it('is ready for client generators: named operations, a server, described tags and answers', () => {
    expect(operationIds(document)).toEqual({
      'GET /health/live': 'getLiveness',
      'GET /health/ready': 'getReadiness',
      'GET /metrics': 'getMetrics',
      'GET /orders/{id}': 'getOrder',
      'POST /orders': 'createOrder',
      'GET /orders': 'listOrders',
    });
    expect(document.tags!.map((tag) => tag.name)).toEqual([
      'orders',
      'operations',
    ]);
    expectReadyForGenerators(document);
  });

  it('refuses no request the document allows: a generated sweep of every operation', async () => {
    // A users service that knows every user, so that creates get as far as being stored.
    const users = await StandInServer.start(
      answer(200, '{"name":"Kim","email":"kim@example.com"}'),
    );
    const sweeping = await createTestApp(
      service.module(
        testConfig(OrdersConfig, { USERS_SERVICE_URL: users.url }),
      ),
    );
    try {
      await expectNoValidRequestRefused(sweeping, document, { count: 40 });
    } finally {
      await sweeping.close();
      await users.close();
    }
  });

  it("says an order's user is a User or null, as a nullable reference generators type as such", () => {
    const order = document.components!.schemas!.Order as OpenAPIV3.SchemaObject;
    expect(order.properties!.user).toEqual({
      type: 'object',
      allOf: [{ $ref: '#/components/schemas/User' }],
      nullable: true,
      description:
        'As the users service knows the user now; null if it no longer does',
    });
  });

  it('names its server from API_PUBLIC_URL when set', async () => {
    const config = testConfig(OrdersConfig, {
      API_PUBLIC_URL: 'https://api.example.com/orders',
    });
    const configured = await createTestApp(service.module(config));
    try {
      const { servers } = await validOpenApiDocument(configured);
      expect(servers).toEqual([
        {
          url: 'https://api.example.com/orders',
          description: 'The orders service',
        },
      ]);
    } finally {
      await configured.close();
    }
  });

  describe('answers as documented', () => {
    let users: StandInServer;
    let withUsers: INestApplication;
    let check: Awaited<ReturnType<typeof responseValidator>>;

    beforeAll(async () => {
      // A users service that no longer knows anyone: orders answer with "user": null.
      users = await StandInServer.start(answer(404, '{"status":404}'));
      withUsers = await createTestApp(
        service.module(
          testConfig(OrdersConfig, { USERS_SERVICE_URL: users.url }),
        ),
      );
      check = await responseValidator(document);
    });

    afterAll(async () => {
      await withUsers.close();
      await users.close();
    });

    const get = async (path: string) => {
      const response = await request(withUsers.getHttpServer()).get(path);
      return {
        status: response.status,
        type: response.headers['content-type'],
        body: /json/.test(response.headers['content-type'] ?? '')
          ? response.body
          : response.text,
      };
    };

    it('a 200 whose user is null, which the document admits', async () => {
      const received = await get('/orders/1');
      expect(received.body).toEqual({
        user_id: 1,
        product: 'Laptop',
        user: null,
      });
      expect(() => check('GET', '/orders/1', received)).not.toThrow();
    });

    it('refuses a user object that is neither a user nor null', () => {
      expect(() =>
        check('GET', '/orders/1', {
          status: 200,
          type: 'application/json',
          body: { user_id: 1, product: 'Laptop', user: { name: 1 } },
        }),
      ).toThrow(/does not match the document/);
    });

    it.each([
      ['offset', '/orders?offset=9007199254740991', 200],
      ['offset', '/orders?offset=9007199254740992', 400],
      ['user_id', '/orders?user_id=9007199254740991', 200],
      ['user_id', '/orders?user_id=99999999999999999999', 400],
    ])(
      'documents the maximum of %s and answers on each side of it: %s',
      async (name, path, status) => {
        const parameters = document.paths['/orders']!.get!
          .parameters as OpenAPIV3.ParameterObject[];
        const schema = parameters.find((p) => p.name === name)!
          .schema as OpenAPIV3.SchemaObject;
        expect(schema.maximum).toBe(Number.MAX_SAFE_INTEGER);
        const received = await get(path);
        expect(received.status).toBe(status);
        if (status === 400)
          expect(received.body.errors).toEqual([
            {
              field: name,
              message: `${name} must not be greater than 9007199254740991`,
            },
          ]);
        expect(() => check('GET', path, received)).not.toThrow();
      },
    );

    it('documents the maximum user_id of POST /orders', () => {
      const createOrder = document.components!.schemas!
        .CreateOrder as OpenAPIV3.SchemaObject;
      expect(
        (createOrder.properties!.user_id as OpenAPIV3.SchemaObject).maximum,
      ).toBe(Number.MAX_SAFE_INTEGER);
    });

    it.each(['/health/live', '/health/ready', '/metrics'])(
      '%s answers what the document says, JSON or Prometheus text',
      async (path) => {
        const received = await get(path);
        expect(received.status).toBe(200);
        expect(() => check('GET', path, received)).not.toThrow();
      },
    );
  });

  it('documents the Idempotency-Key header and the user_id filter', () => {
    const post = document.paths['/orders']!.post!
      .parameters as OpenAPIV3.ParameterObject[];
    expect(post.map((p) => p.name)).toContain('Idempotency-Key');
    const list = document.paths['/orders']!.get!
      .parameters as OpenAPIV3.ParameterObject[];
    expect(list.map((p) => p.name)).toEqual(['limit', 'offset', 'user_id']);
  });
});
