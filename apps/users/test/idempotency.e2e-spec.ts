import { INestApplication, Logger } from '@nestjs/common';
import {
  IdempotencySettings,
  IdempotencyStore,
  InMemoryIdempotencyStore,
} from '@app/idempotency';
import { createTestApp, expectProblem, testConfig } from '@app/testing';
import request from 'supertest';
import { App } from 'supertest/types';
import { service } from '../src/app.module';
import { UsersConfig } from '../src/users.config';

const CHARLIE = { name: 'Charlie', email: 'charlie@example.com' };

describe('POST /users with Idempotency-Key (e2e)', () => {
  let app: INestApplication<App>;

  async function boot(overrides: Partial<UsersConfig> = {}) {
    app = await createTestApp(
      service.module(testConfig(UsersConfig, overrides)),
    );
  }

  afterEach(async () => {
    await app.close();
  });

  const http = () => request(app.getHttpServer());
  const create = (key: string | undefined, body: object) => {
    const call = http().post('/users');
    if (key !== undefined) call.set('Idempotency-Key', key);
    return call.send(body);
  };
  const total = async () =>
    (await http().get('/users').expect(200)).body.total as number;

  it('replays the first response for the same key and body, creating nothing more', async () => {
    await boot();
    const first = await create('key-1', CHARLIE).expect(201, { user_id: 3 });
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await create('key-1', CHARLIE).expect(201, { user_id: 3 });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await total()).toBe(3);
  });

  it('treats the same body with its keys in another order as the same request', async () => {
    await boot();
    await create('key-1', {
      name: 'Charlie',
      email: 'charlie@example.com',
    }).expect(201);
    await create('key-1', {
      email: 'charlie@example.com',
      name: 'Charlie',
    }).expect(201, {
      user_id: 3,
    });
    expect(await total()).toBe(3);
  });

  it('answers 422 for the same key with another body', async () => {
    await boot();
    await create('key-1', CHARLIE).expect(201);
    const response = await create('key-1', {
      name: 'Dana',
      email: 'dana@example.com',
    });
    expectProblem(response, 422);
    expect(response.body.detail).toBe(
      'This Idempotency-Key was already used with a different request',
    );
    expect(await total()).toBe(3);
  });

  it('behaves as before without the header', async () => {
    await boot();
    await create(undefined, CHARLIE).expect(201, { user_id: 3 });
    expectProblem(await create(undefined, CHARLIE), 409);
  });

  it('keeps different keys apart', async () => {
    await boot();
    await create('key-1', CHARLIE).expect(201, { user_id: 3 });
    await create('key-2', { name: 'Dana', email: 'dana@example.com' }).expect(
      201,
      {
        user_id: 4,
      },
    );
  });

  it('does not remember a failed validation: the key can be used again', async () => {
    await boot();
    expectProblem(await create('key-1', { name: '', email: 'x' }), 400);
    await create('key-1', CHARLIE).expect(201, { user_id: 3 });
  });

  it('does not remember a failed request: after a 409 the key is free', async () => {
    await boot();
    expectProblem(
      await create('key-1', { name: 'A', email: 'alice@example.com' }),
      409,
    );
    await create('key-1', CHARLIE).expect(201, { user_id: 3 });
  });

  it.each([
    ['empty', ''],
    ['over 255 characters', 'k'.repeat(256)],
  ])('answers 400 for a key that is %s', async (_case, key) => {
    await boot();
    const response = await create(key, CHARLIE);
    expectProblem(response, 400);
    // The detail is what a client without a field list (curl, a log line) gets to read.
    expect(response.body.detail).toBe(
      'Idempotency-Key must be 1 to 255 characters',
    );
    expect(response.body.errors).toEqual([
      { field: 'Idempotency-Key', message: 'must be 1 to 255 characters' },
    ]);
    expect(await total()).toBe(2);
  });

  it('accepts a key of exactly 255 characters', async () => {
    await boot();
    await create('k'.repeat(255), CHARLIE).expect(201);
  });

  it('creates exactly one record from concurrent requests with one key', async () => {
    await boot();
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => create('key-1', CHARLIE)),
    );
    const created = responses.filter((r) => r.status === 201);
    // Each is either the original, a replay of it, or told the original is still running.
    expect(created.length).toBeGreaterThanOrEqual(1);
    for (const r of created) expect(r.body).toEqual({ user_id: 3 });
    for (const r of responses.filter((r) => r.status !== 201))
      expectProblem(r, 409);
    expect(await total()).toBe(3);
  });

  it('forgets keys after IDEMPOTENCY_TTL_MS', async () => {
    await boot({ IDEMPOTENCY_TTL_MS: 100 });
    await create('key-1', CHARLIE).expect(201, { user_id: 3 });
    await new Promise((resolve) => setTimeout(resolve, 150));
    // A new request now: the email is taken by the first.
    expectProblem(await create('key-1', CHARLIE), 409);
  });

  it('evicts the oldest keys beyond IDEMPOTENCY_MAX_KEYS', async () => {
    await boot({ IDEMPOTENCY_MAX_KEYS: 2 });
    await create('key-1', CHARLIE).expect(201, { user_id: 3 });
    await create('key-2', { name: 'Dana', email: 'dana@example.com' }).expect(
      201,
    );
    await create('key-3', { name: 'Eve', email: 'eve@example.com' }).expect(
      201,
    );
    // What a shared store does in the background, now.
    await app.get(IdempotencyStore).purge();
    // key-1 is gone: it runs again, and Charlie's email is taken now.
    expectProblem(await create('key-1', CHARLIE), 409);
    // key-3 is still remembered.
    await create('key-3', { name: 'Eve', email: 'eve@example.com' }).expect(
      201,
      { user_id: 5 },
    );
  });

  it('still answers when the answer cannot be stored, and says so in a warning', async () => {
    const warn = jest
      .spyOn(Logger.prototype, 'warn')
      .mockImplementation(() => undefined);
    class FailingToStore extends InMemoryIdempotencyStore {
      override complete(): Promise<void> {
        return Promise.reject(new Error('disk full'));
      }
    }
    const config = testConfig(UsersConfig);
    app = await createTestApp(service.module(config), (builder) =>
      builder
        .overrideProvider(IdempotencyStore)
        .useValue(new FailingToStore(config)),
    );
    try {
      await create('key-1', CHARLIE).expect(201, { user_id: 3 });
      expect(warn).toHaveBeenCalledWith(
        'Could not store the answer for an Idempotency-Key: disk full',
      );
      expect(await total()).toBe(3);
    } finally {
      warn.mockRestore();
    }
  });

  it.each([
    [{}, 'Remembered 24 h, at most 10000 keys.'],
    [
      { IDEMPOTENCY_TTL_MS: 90_000, IDEMPOTENCY_MAX_KEYS: 50 },
      'Remembered 90 s, at most 50 keys.',
    ],
  ])(
    'documents how long keys are remembered, as configured (%p)',
    async (settings: Partial<IdempotencySettings>, remembered) => {
      await boot(settings);
      const document = (await http().get('/openapi.json').expect(200)).body;
      const key = document.paths['/users'].post.parameters.find(
        (parameter: { name: string }) => parameter.name === 'Idempotency-Key',
      );
      expect(key.description).toMatch(new RegExp(`${remembered}$`));
    },
  );
});
