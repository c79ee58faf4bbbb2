import { INestApplication } from '@nestjs/common';
import { createTestApp, expectProblem, testConfig } from '@app/testing';
import request from 'supertest';
import { App } from 'supertest/types';
import { service } from '../src/app.module';
import { UsersConfig } from '../src/users.config';
import { USERS_REPOSITORY } from '../src/users/users.repository';

describe('users app (e2e)', () => {
  let app: INestApplication<App>;

  beforeEach(async () => {
    app = await createTestApp(service.module(testConfig(UsersConfig)));
  });

  afterEach(async () => {
    await app.close();
  });

  const http = () => request(app.getHttpServer());
  const createUser = (body: unknown) =>
    http()
      .post('/users')
      .send(body as object);

  /** What a failed request must never change: the next id handed out and the stored users. */
  async function expectNothingStored(): Promise<void> {
    const list = await http().get('/users').expect(200);
    expect(list.body.total).toBe(2);
    const next = await createUser({
      name: 'Next',
      email: 'next@example.com',
    }).expect(201);
    expect(next.body).toEqual({ user_id: 3 });
  }

  describe('GET /users/:id', () => {
    it('answers the seed body for Alice, exactly', async () => {
      const response = await http().get('/users/1').expect(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.text).toBe(
        '{"name":"Alice","email":"alice@example.com"}',
      );
    });

    it('answers Bob', async () => {
      await http()
        .get('/users/2')
        .expect(200, { name: 'Bob', email: 'bob@example.com' });
    });

    it('answers 404 naming an unknown id', async () => {
      const response = await http().get('/users/42');
      expectProblem(response, 404);
      expect(response.body.detail).toContain('42');
    });

    it.each(['0', '-1', 'abc', '1.5', '1e3', '0x10', '01', '9007199254740993'])(
      'answers 400 for the id %p',
      async (id) => {
        const response = await http().get(`/users/${id}`);
        expectProblem(response, 400);
        expect(response.body.errors).toEqual([
          { field: 'id', message: 'id must be a positive integer' },
        ]);
      },
    );
  });

  describe('POST /users', () => {
    it('creates Charlie as user 3, as in the seed, and reads him back', async () => {
      const response = await http()
        .post('/users')
        .set('Content-Type', 'application/json')
        .send('{"name": "Charlie", "email": "charlie@example.com"}')
        .expect(201);
      expect(response.text).toBe('{"user_id":3}');
      await http()
        .get('/users/3')
        .expect(200, { name: 'Charlie', email: 'charlie@example.com' });
    });

    it('stores the name trimmed', async () => {
      await createUser({ name: '  Dana  ', email: 'dana@example.com' }).expect(
        201,
      );
      await http()
        .get('/users/3')
        .expect(200, { name: 'Dana', email: 'dana@example.com' });
    });

    it('hands out increasing ids that are never reused', async () => {
      const first = await createUser({
        name: 'A',
        email: 'a@example.com',
      }).expect(201);
      const second = await createUser({
        name: 'B',
        email: 'b@example.com',
      }).expect(201);
      expect([first.body.user_id, second.body.user_id]).toEqual([3, 4]);
    });

    it('answers 409 for an email that is taken, ignoring case, and stores nothing', async () => {
      const response = await createUser({
        name: 'Alice again',
        email: 'Alice@EXAMPLE.com',
      });
      expectProblem(response, 409);
      expect(response.body.detail).toContain('Alice@EXAMPLE.com');
      await expectNothingStored();
    });

    it.each([
      [
        'a missing name',
        { email: 'x@example.com' },
        'name',
        'name is required',
      ],
      [
        'a null name',
        { name: null, email: 'x@example.com' },
        'name',
        'name is required',
      ],
      [
        'a blank name',
        { name: '   ', email: 'x@example.com' },
        'name',
        'name should not be empty',
      ],
      [
        'a name that is not a string',
        { name: 42, email: 'x@example.com' },
        'name',
        'name must be a string',
      ],
      [
        'a name over 100 characters',
        { name: 'n'.repeat(101), email: 'x@example.com' },
        'name',
        'name must be shorter than or equal to 100 characters',
      ],
      ['a missing email', { name: 'X' }, 'email', 'email is required'],
      [
        'an invalid email',
        { name: 'X', email: 'not-an-email' },
        'email',
        'email must be an email',
      ],
      [
        'an email over 254 characters',
        {
          name: 'X',
          email: `${'e'.repeat(64)}@${'d'.repeat(63)}.${'d'.repeat(63)}.${'d'.repeat(63)}.com`,
        },
        'email',
        'email must be shorter than or equal to 254 characters',
      ],
      [
        'an unknown field',
        { name: 'X', email: 'x@example.com', role: 'admin' },
        'role',
        'property role should not exist',
      ],
      [
        'a client-chosen id',
        { name: 'X', email: 'x@example.com', user_id: 7 },
        'user_id',
        'property user_id should not exist',
      ],
    ])(
      'answers 400 for %s, naming the field, and stores nothing',
      async (_case, body, field, message) => {
        const response = await createUser(body);
        expectProblem(response, 400);
        expect(response.body.errors).toEqual([{ field, message }]);
        await expectNothingStored();
      },
    );

    it('names every wrong field at once', async () => {
      const response = await createUser({ name: '', email: 'nope' });
      expectProblem(response, 400);
      expect(response.body.errors).toEqual([
        { field: 'name', message: 'name should not be empty' },
        { field: 'email', message: 'email must be an email' },
      ]);
    });

    it('accepts a name of exactly 100 characters', async () => {
      await createUser({
        name: 'n'.repeat(100),
        email: 'x@example.com',
      }).expect(201);
    });

    it.each([
      ['malformed JSON', '{"name": "X",'],
      ['a JSON array', '[{"name": "X", "email": "x@example.com"}]'],
      ['a JSON string', '"X"'],
      ['a JSON number', '42'],
      ['JSON null', 'null'],
    ])('answers 400 for %s and stores nothing', async (_case, body) => {
      const response = await http()
        .post('/users')
        .set('Content-Type', 'application/json')
        .send(body);
      expectProblem(response, 400);
      await expectNothingStored();
    });

    it('answers 413 for a body over 100 kB and stores nothing', async () => {
      const response = await createUser({
        name: 'X',
        email: 'x@example.com',
        pad: 'p'.repeat(101 * 1024),
      });
      expectProblem(response, 413);
      await expectNothingStored();
    });

    it.each([
      ['text/plain', 'name=X'],
      ['application/x-www-form-urlencoded', 'name=X&email=x%40example.com'],
    ])('answers 415 for a %s body and stores nothing', async (type, body) => {
      const response = await http()
        .post('/users')
        .set('Content-Type', type)
        .send(body);
      expectProblem(response, 415);
      await expectNothingStored();
    });

    it('answers 400 for a POST without a body', async () => {
      const response = await http().post('/users');
      expectProblem(response, 400);
      expect(response.body.errors).toEqual([
        { field: 'name', message: 'name is required' },
        { field: 'email', message: 'email is required' },
      ]);
    });

    it('gives parallel creates unique, consecutive ids that all read back', async () => {
      const count = 50;
      const responses = await Promise.all(
        Array.from({ length: count }, (_, i) =>
          createUser({ name: `User ${i}`, email: `user${i}@example.com` }),
        ),
      );
      const ids = responses.map((r) => {
        expect(r.status).toBe(201);
        return r.body.user_id as number;
      });
      expect([...ids].sort((a, b) => a - b)).toEqual(
        Array.from({ length: count }, (_, i) => i + 3),
      );
      const reads = await Promise.all(
        ids.map((id) => http().get(`/users/${id}`)),
      );
      reads.forEach((read, i) => {
        expect(read.status).toBe(200);
        expect(read.body).toEqual({
          name: `User ${i}`,
          email: `user${i}@example.com`,
        });
      });
    });

    it('lets exactly one of several parallel creates with the same email win', async () => {
      const responses = await Promise.all(
        Array.from({ length: 10 }, () =>
          createUser({ name: 'Twin', email: 'twin@example.com' }),
        ),
      );
      const statuses = responses.map((r) => r.status).sort((a, b) => a - b);
      expect(statuses).toEqual([201, ...Array(9).fill(409)]);
      await http()
        .get('/users')
        .expect(200)
        .expect((r) => expect(r.body.total).toBe(3));
    });
  });

  describe('GET /users', () => {
    it('lists the seed users with the default page', async () => {
      await http()
        .get('/users')
        .expect(200, {
          items: [
            { user_id: 1, name: 'Alice', email: 'alice@example.com' },
            { user_id: 2, name: 'Bob', email: 'bob@example.com' },
          ],
          total: 2,
          limit: 50,
          offset: 0,
        });
    });

    it('pages with limit and offset', async () => {
      await createUser({
        name: 'Charlie',
        email: 'charlie@example.com',
      }).expect(201);
      await http()
        .get('/users?limit=1&offset=1')
        .expect(200, {
          items: [{ user_id: 2, name: 'Bob', email: 'bob@example.com' }],
          total: 3,
          limit: 1,
          offset: 1,
        });
    });

    it('accepts the largest limit, 100', async () => {
      await http().get('/users?limit=100').expect(200);
    });

    it.each([
      ['limit=101', 'limit', 'limit must not be greater than 100'],
      ['limit=0', 'limit', 'limit must not be less than 1'],
      ['limit=abc', 'limit', 'limit must be an integer number'],
      ['limit=1e1', 'limit', 'limit must be an integer number'],
      ['offset=-1', 'offset', 'offset must be an integer number'],
      ['offset=1.5', 'offset', 'offset must be an integer number'],
      ['sort=name', 'sort', 'property sort should not exist'],
    ])('answers 400 for ?%s', async (query, field, message) => {
      const response = await http().get(`/users?${query}`);
      expectProblem(response, 400);
      expect(response.body.errors).toEqual([{ field, message }]);
    });
  });

  describe('routes that do not exist', () => {
    it('answers 404 problem+json for an unknown path', async () => {
      const response = await http().get('/nope');
      expectProblem(response, 404);
    });

    it('answers 405 with Allow for a wrong method on a known path', async () => {
      const response = await http().put('/users/1').send({});
      expectProblem(response, 405);
      expect(response.headers.allow).toBe('DELETE, GET, HEAD, PATCH');
    });

    it('answers 405 with Allow for PUT on the collection', async () => {
      const response = await http().put('/users').send({});
      expectProblem(response, 405);
      expect(response.headers.allow).toBe('GET, HEAD, POST');
    });
  });
});

describe('users app, when something unexpected breaks (e2e)', () => {
  it('answers a generic 500 problem, with nothing of the fault in the body', async () => {
    const app = await createTestApp(
      service.module(testConfig(UsersConfig)),
      (builder) =>
        builder.overrideProvider(USERS_REPOSITORY).useValue({
          findById: () =>
            Promise.reject(
              new Error('disk on fire at /var/lib/users/secret.db'),
            ),
        }),
    );
    try {
      const response = await request(app.getHttpServer()).get('/users/1');
      expectProblem(response, 500);
      expect(response.body).toEqual({
        type: 'about:blank',
        title: 'Internal Server Error',
        status: 500,
        detail: 'The server could not complete the request.',
        request_id: expect.any(String),
      });
      expect(response.text).not.toMatch(/disk|secret|users\.db/);
    } finally {
      await app.close();
    }
  });
});
