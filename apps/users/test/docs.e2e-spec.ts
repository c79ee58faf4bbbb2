import { INestApplication } from '@nestjs/common';
import {
  createTestApp,
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
import { UsersConfig } from '../src/users.config';

describe('users API docs (e2e)', () => {
  let app: INestApplication;
  let document: OpenAPIV3.Document;

  beforeAll(async () => {
    app = await createTestApp(service.module(testConfig(UsersConfig)));
    document = await validOpenApiDocument(app);
  });

  afterAll(async () => {
    await app.close();
  });

  it('serves Swagger UI at /docs', async () => {
    const page = await request(app.getHttpServer()).get('/docs').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('swagger-ui');
    await request(app.getHttpServer())
      .get('/docs/swagger-ui-init.js')
      .expect(200);
  });

  it('lists every route with every status it can answer', () => {
    expect(documentedStatuses(document)).toEqual({
      'GET /health/live': ['200'],
      'GET /health/ready': ['200', '503'],
      'GET /metrics': ['200'],
      'GET /users/{id}': ['200', '304', '400', '404', '429', '500'],
      'PATCH /users/{id}': [
        '200',
        '400',
        '404',
        '409',
        '412',
        '413',
        '415',
        '428',
        '429',
        '500',
      ],
      'DELETE /users/{id}': ['204', '400', '404', '412', '429', '500'],
      'POST /users': ['201', '400', '409', '413', '415', '422', '429', '500'],
      'GET /users': ['200', '400', '429', '500'],
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
      'GET /users/{id}': 'getUser',
      'PATCH /users/{id}': 'updateUser',
      'DELETE /users/{id}': 'deleteUser',
      'POST /users': 'createUser',
      'GET /users': 'listUsers',
    });
    expect(document.servers).toEqual([
      {
        url: '/',
        description: 'The users service, where this document was fetched from',
      },
    ]);
    expect(document.tags!.map((tag) => tag.name)).toEqual([
      'users',
      'operations',
    ]);
    expectReadyForGenerators(document);
  });

  it('refuses no request the document allows: a generated sweep of every operation', async () => {
    await expectNoValidRequestRefused(app, document, { count: 40 });
  });

  it('says what generated clients must not send: an empty patch, control characters, a blank name', () => {
    const schemas = document.components!.schemas as Record<
      string,
      OpenAPIV3.SchemaObject
    >;
    expect(schemas.PatchUser.minProperties).toBe(1);
    const name = new RegExp(
      (schemas.CreateUser.properties!.name as OpenAPIV3.SchemaObject).pattern!,
      'u',
    );
    for (const refused of ['Tab\there', 'Nul\u0000', 'Del\u007F', '   '])
      expect(name.test(refused)).toBe(false);
    for (const accepted of ['Charlie', ' Zoë ', 'A'])
      expect(name.test(accepted)).toBe(true);
  });

  it('documents the ETag a user comes with, and a 304 carries', () => {
    const get = document.paths['/users/{id}']!.get!.responses;
    for (const status of ['200', '304']) {
      const { headers } = get[status] as OpenAPIV3.ResponseObject;
      expect(headers!.ETag).toEqual({
        required: true,
        description: expect.stringContaining('If-Match'),
        schema: { type: 'string' },
      });
    }
  });

  it('describes errors as problem+json from the contracts', () => {
    const error = (
      document.paths['/users/{id}']!.get!.responses[
        '404'
      ] as OpenAPIV3.ResponseObject
    ).content!;
    expect(error).toEqual({
      'application/problem+json': {
        schema: { $ref: '#/components/schemas/ProblemDetails' },
      },
    });
    const schema = document.components!.schemas!
      .ProblemDetails as OpenAPIV3.SchemaObject;
    expect(schema.required).toEqual(['type', 'title', 'status', 'detail']);
    expect(Object.keys(schema.properties!)).toEqual(
      expect.arrayContaining(['errors', 'request_id']),
    );
  });

  it('takes bodies and answers from the contracts DTOs, with their rules', () => {
    const schemas = document.components!.schemas as Record<
      string,
      OpenAPIV3.SchemaObject
    >;
    expect(schemas.CreateUser).toMatchObject({
      required: ['name', 'email'],
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 100 },
        email: { type: 'string', format: 'email', maxLength: 254 },
      },
    });
    expect(schemas.User.required).toEqual(['name', 'email']);
    expect(schemas.UserList.required).toEqual(
      expect.arrayContaining(['items', 'total', 'limit', 'offset']),
    );
  });

  it('documents the Idempotency-Key header on POST /users', () => {
    const parameters = document.paths['/users']!.post!
      .parameters as OpenAPIV3.ParameterObject[];
    expect(parameters).toContainEqual(
      expect.objectContaining({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        schema: { type: 'string', minLength: 1, maxLength: 255 },
      }),
    );
  });

  it('documents versions: ETag on the user, 304 for If-None-Match, If-Match on changes, merge patches', () => {
    const byId = document.paths['/users/{id}']!;
    const headersOf = (operation: OpenAPIV3.OperationObject) =>
      (operation.parameters as OpenAPIV3.ParameterObject[])
        .filter((parameter) => parameter.in === 'header')
        .map(({ name, required }) => [name, required]);
    expect(headersOf(byId.get!)).toEqual([['If-None-Match', false]]);
    expect(headersOf(byId.patch!)).toEqual([['If-Match', true]]);
    expect(headersOf(byId.delete!)).toEqual([['If-Match', false]]);
    const ok = byId.get!.responses['200'] as OpenAPIV3.ResponseObject;
    const notModified = byId.get!.responses['304'] as OpenAPIV3.ResponseObject;
    expect(Object.keys(ok.headers!)).toEqual(
      expect.arrayContaining(['ETag', 'Cache-Control']),
    );
    // Always sent, so a generated client's typed result has it.
    expect(ok.headers!.ETag).toMatchObject({ required: true });
    expect(Object.keys(notModified.headers!)).toContain('ETag');
    expect(notModified.content).toBeUndefined();
    const patched = byId.patch!.responses['200'] as OpenAPIV3.ResponseObject;
    expect(patched.headers!.ETag).toMatchObject({ required: true });
    expect(
      Object.keys(
        (byId.patch!.requestBody as OpenAPIV3.RequestBodyObject).content,
      ),
    ).toEqual(['application/merge-patch+json', 'application/json']);
  });

  it('documents the id and the paging parameters', () => {
    const id = (
      document.paths['/users/{id}']!.get!
        .parameters as OpenAPIV3.ParameterObject[]
    ).find((parameter) => parameter.in === 'path');
    expect(id).toMatchObject({
      name: 'id',
      in: 'path',
      required: true,
      schema: { type: 'integer', minimum: 1 },
    });
    const paging = (
      document.paths['/users']!.get!.parameters as OpenAPIV3.ParameterObject[]
    ).map((p) => [p.name, p.in, p.required]);
    expect(paging).toEqual([
      ['limit', 'query', false],
      ['offset', 'query', false],
    ]);
  });
});
