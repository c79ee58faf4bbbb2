import { INestApplication } from '@nestjs/common';
import {
  createTestApp,
  documentedStatuses,
  expectEveryServedRouteDocumented,
  testConfig,
  validOpenApiDocument,
} from '@app/testing';
import type { OpenAPIV3 } from 'openapi-types';
import { OrdersAppModule } from '../src/app.module';
import { OrdersConfig } from '../src/orders.config';

describe('orders API docs (e2e)', () => {
  let app: INestApplication;
  let document: OpenAPIV3.Document;

  beforeAll(async () => {
    app = await createTestApp(
      OrdersAppModule.forRoot(testConfig(OrdersConfig)),
    );
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

  it('shows the user of an order as nullable', () => {
    const order = document.components!.schemas!
      .OrderDto as OpenAPIV3.SchemaObject;
    expect(order.properties!.user).toMatchObject({ nullable: true });
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
