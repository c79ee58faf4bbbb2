import { INestApplication } from '@nestjs/common';
import { DatabaseSettings } from '@app/storage';
import {
  createTestApp,
  expectProblem,
  queryTestDatabase,
  startTestApp,
  testConfig,
} from '@app/testing';
import crypto from 'node:crypto';
import request from 'supertest';
import { App } from 'supertest/types';
import { service } from '../src/app.module';
import { UsersConfig } from '../src/users.config';

const MERGE_PATCH = 'application/merge-patch+json';

describe('changing and erasing users (e2e)', () => {
  let app: INestApplication<App>;

  beforeEach(async () => {
    app = await createTestApp(service.module(testConfig(UsersConfig)));
  });

  afterEach(async () => {
    await app.close();
  });

  const http = () => request(app.getHttpServer());
  const tagOf = async (id: number): Promise<string> =>
    (await http().get(`/users/${id}`).expect(200)).headers.etag;
  const patch = (id: number, body: unknown, ifMatch?: string) => {
    const call = http().patch(`/users/${id}`).set('Content-Type', MERGE_PATCH);
    if (ifMatch !== undefined) call.set('If-Match', ifMatch);
    return call.send(JSON.stringify(body));
  };

  describe('versions on the wire', () => {
    it('answers GET with the seed body, a strong ETag and Cache-Control: no-cache', async () => {
      const response = await http().get('/users/1').expect(200);
      expect(response.text).toBe(
        '{"name":"Alice","email":"alice@example.com"}',
      );
      expect(response.headers.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
      expect(response.headers['cache-control']).toBe('no-cache');
    });

    it('hashes each version of a user into its tag once, not on every answer', async () => {
      const hashing = jest.spyOn(crypto, 'createHash');
      // Express hashes bodies for its own weak tags with sha1; ours are sha256.
      const ourTags = () =>
        hashing.mock.calls.filter(([algorithm]) => algorithm === 'sha256')
          .length;
      try {
        const first = await tagOf(1);
        for (let i = 0; i < 4; i++) expect(await tagOf(1)).toBe(first);
        await http().get('/users/1').set('If-None-Match', first).expect(304);
        expect(ourTags()).toBe(1);
        await patch(1, { name: 'Alicia' }, first).expect(200);
        const second = await tagOf(1);
        expect(second).not.toBe(first);
        expect(await tagOf(1)).toBe(second);
        expect(ourTags()).toBe(2);
      } finally {
        hashing.mockRestore();
      }
    });

    it('answers If-None-Match with the current tag 304, without a body', async () => {
      const tag = await tagOf(1);
      const response = await http()
        .get('/users/1')
        .set('If-None-Match', tag)
        .expect(304);
      expect(response.text).toBe('');
      expect(response.headers.etag).toBe(tag);
      await http().get('/users/1').set('If-None-Match', '"other"').expect(200);
    });

    it('answers 304 to a fetch client too, which sends Cache-Control: no-cache with If-None-Match', async () => {
      const listening = await startTestApp(
        service.module(testConfig(UsersConfig)),
      );
      const url = `${listening.url}/users/1`;
      const tag = (await fetch(url)).headers.get('etag')!;
      // What the Fetch standard does to a request that sets If-None-Match itself, and what a
      // browser adds on a reload; an origin server evaluates the tag all the same.
      for (const headers of <Record<string, string>[]>[
        { 'If-None-Match': tag },
        {
          'If-None-Match': tag,
          'Cache-Control': 'no-cache',
          Pragma: 'no-cache',
        },
        { 'If-None-Match': `W/${tag}, "other"` },
        { 'If-None-Match': '*' },
      ]) {
        const response = await fetch(url, { headers });
        expect([response.status, await response.text()]).toEqual([304, '']);
        expect(response.headers.get('etag')).toBe(tag);
      }
      const stale = await fetch(url, {
        headers: { 'If-None-Match': '"other"', 'Cache-Control': 'no-cache' },
      });
      expect(stale.status).toBe(200);
      // Only a representation that exists is answered 304.
      const missing = await fetch(`${listening.url}/users/999`, {
        headers: { 'If-None-Match': '*' },
      });
      expect(missing.status).toBe(404);
      await listening.app.close();
    });

    it('gives each user its own tag, and the same one until the user changes', async () => {
      const [alice, bob] = [await tagOf(1), await tagOf(2)];
      expect(alice).not.toBe(bob);
      expect(await tagOf(1)).toBe(alice);
      // Refused changes leave the version alone.
      expectProblem(await patch(1, { email: 'bob@example.com' }, alice), 409);
      expectProblem(await patch(1, { email: 'nope' }, alice), 400);
      expectProblem(await patch(1, { name: 'X' }, '"stale"'), 412);
      expectProblem(await patch(1, { name: 'X' }), 428);
      expect(await tagOf(1)).toBe(alice);
      await patch(1, { name: 'Alice' }, alice).expect(200);
      expect(await tagOf(1)).not.toBe(alice);
    });
  });

  describe('PATCH /users/:id', () => {
    it('applies a JSON Merge Patch at the version in If-Match, answering the user and its new tag', async () => {
      const tag = await tagOf(1);
      const response = await patch(1, { email: 'alice@example.org' }, tag);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        name: 'Alice',
        email: 'alice@example.org',
      });
      expect(response.headers.etag).toBe(await tagOf(1));
      expect(response.headers.etag).not.toBe(tag);
      await http()
        .get('/users/1')
        .expect(200, { name: 'Alice', email: 'alice@example.org' });
      const list = await http().get('/users').expect(200);
      expect(list.body.items[0]).toEqual({
        user_id: 1,
        name: 'Alice',
        email: 'alice@example.org',
      });
    });

    it('takes plain application/json as a merge patch too, and If-Match: *', async () => {
      await http()
        .patch('/users/2')
        .set('If-Match', '*')
        .send({ name: '  Robert  ' })
        .expect(200, { name: 'Robert', email: 'bob@example.com' });
    });

    it('requires If-Match: 428 without it, changing nothing', async () => {
      const response = await patch(1, { name: 'Mallory' });
      expectProblem(response, 428);
      expect(response.body.detail).toBe(
        'This change needs If-Match with the ETag of the version it changes; GET it first',
      );
      await http().get('/users/1').expect(200, {
        name: 'Alice',
        email: 'alice@example.com',
      });
    });

    it('answers 412 to a stale or weak tag, so that two clients cannot overwrite each other', async () => {
      const seen = await tagOf(1);
      await patch(1, { name: 'First' }, seen).expect(200);
      const second = await patch(1, { name: 'Second' }, seen);
      expectProblem(second, 412);
      expect(second.body.detail).toBe(
        'User 1 has changed since that ETag; GET it again and retry',
      );
      expectProblem(
        await patch(1, { name: 'Weak' }, `W/${await tagOf(1)}`),
        412,
      );
      expect((await http().get('/users/1')).body.name).toBe('First');
    });

    it('answers 404 for an unknown user', async () => {
      expectProblem(await patch(99, { name: 'Nobody' }, '*'), 404);
    });

    it.each([
      [
        'an empty patch',
        {},
        'The patch changes nothing: give name, email or both',
      ],
      [
        'an unknown field',
        { name: 'A', role: 'admin' },
        'Invalid request: property role should not exist',
      ],
      ['a null name', { name: null }, 'Invalid request: name must be a string'],
      [
        'a blank name',
        { name: '  ' },
        'Invalid request: name should not be empty',
      ],
      [
        'an invalid email',
        { email: 'alice' },
        'Invalid request: email must be an email',
      ],
      ['an id', { id: 7 }, 'Invalid request: property id should not exist'],
    ])('answers 400 to %s, changing nothing', async (_case, body, detail) => {
      const tag = await tagOf(1);
      const response = await patch(1, body, tag);
      expectProblem(response, 400);
      expect(response.body.detail).toBe(detail);
      expect(await tagOf(1)).toBe(tag);
    });

    it("answers 409 for another user's email, ignoring case", async () => {
      const response = await patch(2, { email: 'ALICE@example.com' }, '*');
      expectProblem(response, 409);
      expect(response.body.detail).toBe(
        'A user with email ALICE@example.com already exists',
      );
    });

    it('refuses a JSON Patch (RFC 6902) and other media types with 415', async () => {
      const response = await http()
        .patch('/users/1')
        .set('If-Match', '*')
        .set('Content-Type', 'application/json-patch+json')
        .send('[{"op":"replace","path":"/name","value":"X"}]');
      expectProblem(response, 415);
      expect(response.body.detail).toBe(
        'A PATCH body must be a JSON merge patch (Content-Type: application/merge-patch+json), got application/json-patch+json',
      );
    });
  });

  describe('DELETE /users/:id', () => {
    const create = async (email: string): Promise<number> =>
      (
        await http()
          .post('/users')
          .set('Idempotency-Key', `create-${email}`)
          .send({ name: 'Charlie', email })
          .expect(201)
      ).body.user_id;

    it('erases the user: 204, then 404 for GET and for another DELETE', async () => {
      const response = await http().delete('/users/2').expect(204);
      expect(response.text).toBe('');
      expectProblem(await http().get('/users/2'), 404);
      expectProblem(await http().delete('/users/2'), 404);
      const list = await http().get('/users').expect(200);
      expect(list.body.total).toBe(1);
    });

    it('never hands the id out again', async () => {
      const id = await create('charlie@example.com');
      expect(id).toBe(3);
      await http().delete(`/users/${id}`).expect(204);
      // The email is free again; the id is not.
      expect(await create('charlie@example.com')).toBe(4);
    });

    it('honours If-Match when sent: 412 on a stale tag, erased at the current one', async () => {
      const seen = await tagOf(1);
      await patch(1, { name: 'Alicia' }, seen).expect(200);
      expectProblem(await http().delete('/users/1').set('If-Match', seen), 412);
      await http().get('/users/1').expect(200);
      await http()
        .delete('/users/1')
        .set('If-Match', await tagOf(1))
        .expect(204);
    });

    it('leaves no name or email in the store, nor the answer that created them', async () => {
      const id = await create('erase.me@example.com');
      await http().delete(`/users/${id}`).expect(204);
      // Replayed, the create's key runs again: its answer was forgotten with the user.
      await http()
        .post('/users')
        .set('Idempotency-Key', 'create-erase.me@example.com')
        .send({ name: 'Charlie', email: 'erase.me@example.com' })
        .expect(201, { user_id: id + 1 });
      const { DATABASE_URL } = app.get(DatabaseSettings);
      if (DATABASE_URL) {
        await expect(
          queryTestDatabase(
            DATABASE_URL,
            'select id from users where id = $1',
            [String(id)],
          ),
        ).resolves.toEqual([]);
        await expect(
          queryTestDatabase(
            DATABASE_URL,
            'select key from idempotency_keys where body @> $1::jsonb',
            [JSON.stringify({ user_id: id })],
          ),
        ).resolves.toEqual([]);
      }
    });
  });

  describe('control characters', () => {
    it.each([
      ['name', { name: 'Ch\u0000arlie', email: 'c@example.com' }],
      ['name', { name: 'Char\u007flie', email: 'c@example.com' }],
      ['email', { name: 'Charlie', email: 'c\u0007@example.com' }],
    ])(
      'are refused in the %s of a new user (400), storing nothing',
      async (field, body) => {
        const response = await http().post('/users').send(body);
        expectProblem(response, 400);
        expect(response.body.errors).toEqual([
          expect.objectContaining({ field }),
        ]);
        expect((await http().get('/users').expect(200)).body.total).toBe(2);
      },
    );

    it('are refused in a patch (400), changing nothing', async () => {
      const response = await patch(1, { name: 'Ali\u001bce' }, '*');
      expectProblem(response, 400);
      expect(response.body.detail).toBe(
        'Invalid request: name must not contain control characters',
      );
      expect((await http().get('/users/1')).body.name).toBe('Alice');
    });
  });
});
