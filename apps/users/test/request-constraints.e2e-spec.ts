import { INestApplication } from '@nestjs/common';
import {
  createTestApp,
  requestConstraintCases,
  testConfig,
  unexpectedAnswers,
  validOpenApiDocument,
} from '@app/testing';
import { App } from 'supertest/types';
import { service } from '../src/app.module';
import { UsersConfig } from '../src/users.config';

describe('users app: every documented request constraint, from both sides (e2e)', () => {
  let app: INestApplication<App>;

  beforeAll(async () => {
    app = await createTestApp(service.module(testConfig(UsersConfig)));
  });

  afterAll(async () => {
    await app.close();
  });

  it('answers 400 just outside each constraint and serves just inside it', async () => {
    let email = 0;
    const cases = requestConstraintCases(await validOpenApiDocument(app), {
      'GET /users/{id}': { params: { id: 1 } },
      'POST /users': {
        body: () => ({ name: 'Charlie', email: `c${email++}@example.com` }),
      },
      'GET /users': {},
      // Any version: the constraints are checked before the precondition is.
      'PATCH /users/{id}': {
        params: { id: 2 },
        body: () => ({ name: 'Robert' }),
        headers: { 'If-Match': '*' },
      },
      // An id no user has: a valid request is a 404, and erases nobody another case needs.
      'DELETE /users/{id}': { params: { id: 99 } },
    });
    // The document's constraints, each reached: a DTO change shows up here.
    expect(cases.map((c) => c.title)).toEqual(
      expect.arrayContaining([
        'GET /users/{id}: path id above maximum 9007199254740991',
        'GET /users: query limit above maximum 100',
        'GET /users: query offset below minimum 0',
        'POST /users: header Idempotency-Key longer than 255',
        'POST /users: body name longer than 100',
        'POST /users: body email maxLength 254',
        'POST /users: body email not an email',
        'POST /users: body without required email',
        'POST /users: body with a field not in its schema',
        'POST /users: body name with U+0000, against its pattern',
        'POST /users: body email with U+007F, against its pattern',
        'PATCH /users/{id}: body name longer than 100',
        'PATCH /users/{id}: body email not an email',
        'PATCH /users/{id}: body with a field not in its schema',
        'DELETE /users/{id}: path id below minimum 1',
      ]),
    );
    await expect(
      unexpectedAnswers(app.getHttpServer(), cases),
    ).resolves.toEqual([]);
  });
});
