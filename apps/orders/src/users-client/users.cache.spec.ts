import { fakeIntervalsOnly, StandInServer, testConfig } from '@app/testing';
import axios from 'axios';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OrdersConfig } from '../orders.config';
import { AccessTokenService } from './access-token.service';
import { UsersEndpoint } from './users-client.settings';
import { UsersCache } from './users.cache';
import { UsersTransport } from './users.transport';

/** What users answers for a path: a user with its ETag, or an answer set by a test. */
interface UserAnswer {
  body: string;
  tag: string;
  /** Instead of the user: this status, with a problem body (a 500, a 410). */
  status?: number;
  /** Headers added to the 200 and the 304 (no-store, expires, vary...). */
  extra?: Record<string, string>;
  /** The 200's head and half its body, then the connection closed. */
  cutShort?: boolean;
}

/**
 * A users service as HTTP sees it: each user with an ETag, `Cache-Control: no-cache`, and 304 for
 * If-None-Match with the current tag; users may change or go.
 */
function usersLike(users: Map<string, UserAnswer>) {
  return (request: IncomingMessage, response: ServerResponse) => {
    const user = users.get(request.url ?? '');
    if (!user || user.status !== undefined) {
      response.writeHead(user?.status ?? 404, {
        'content-type': 'application/problem+json',
      });
      response.end('{}');
      return;
    }
    const headers = {
      etag: user.tag,
      'cache-control': 'no-cache',
      // As helmet and the request id add them to every answer of the users app.
      'x-frame-options': 'SAMEORIGIN',
      'x-request-id': 'from-users',
      ...user.extra,
    };
    if (request.headers['if-none-match'] === user.tag) {
      response.writeHead(304, headers);
      response.end();
      return;
    }
    response.writeHead(200, { ...headers, 'content-type': 'application/json' });
    if (user.cutShort) {
      response.write(user.body.slice(0, 4));
      response.socket?.destroy();
      return;
    }
    response.end(user.body);
  };
}

describe('UsersCache (undici cache in front of the users pool)', () => {
  let server: StandInServer;
  let pool: UsersTransport;
  let cache: UsersCache;
  let token: AccessTokenService;
  let now: number;
  const users = new Map<string, UserAnswer>();

  async function start(settings: Partial<OrdersConfig> = {}) {
    server = await StandInServer.start(usersLike(users));
    const config = testConfig(OrdersConfig, {
      USERS_SERVICE_URL: server.url,
      ...settings,
    });
    const endpoint = new UsersEndpoint(config);
    cache = new UsersCache(config, endpoint);
    cache.now = () => now;
    token = new AccessTokenService(config);
    pool = new UsersTransport(endpoint, cache, token);
    return axios.create({
      adapter: pool.adapter,
      responseType: 'text',
      transformResponse: (data: string) => data,
      validateStatus: () => true,
    });
  }

  const sent = (header: string) =>
    server.requests.map((request) => request.headers[header] ?? null);
  /** The headers undici's store holds with its copy of `path`. */
  const storedHeaders = (path: string) => {
    const store = Reflect.get(cache, 'store') as {
      get(key: { origin: string; method: string; path: string }): {
        headers: Record<string, unknown>;
      };
    };
    return store.get({
      origin: new URL(server.url).origin,
      method: 'GET',
      path,
    }).headers;
  };

  beforeEach(() => {
    now = 1_000_000;
    users.clear();
    users.set('/users/1', { body: '{"name":"Alice"}', tag: '"a1"' });
    users.set('/users/2', { body: '{"name":"Bob"}', tag: '"b1"' });
    users.set('/users/3', { body: '{"name":"Carol"}', tag: '"c1"' });
  });

  afterEach(async () => {
    cache.onModuleDestroy();
    await pool.onApplicationShutdown();
    await server.close();
    jest.restoreAllMocks();
  });

  it('revalidates its copy on every call: each sends If-None-Match, each 304 serves the copy', async () => {
    const http = await start();
    for (let i = 0; i < 3; i++) {
      const answer = await http.get('/users/1');
      expect([answer.status, answer.data]).toEqual([200, '{"name":"Alice"}']);
    }
    expect(sent('if-none-match')).toEqual([null, '"a1"', '"a1"']);
  });

  it('keeps with a copy only the headers the cache works by and the client reads', async () => {
    const http = await start();
    await http.get('/users/1');
    await http.get('/users/1');
    expect(Object.keys(storedHeaders('/users/1')).sort()).toEqual([
      'cache-control',
      'content-type',
      'date',
      'etag',
    ]);
  });

  it('takes a changed user as users answers it, and revalidates that from then on', async () => {
    const http = await start();
    await http.get('/users/1');
    users.set('/users/1', { body: '{"name":"Alicia"}', tag: '"a2"' });
    expect((await http.get('/users/1')).data).toBe('{"name":"Alicia"}');
    await http.get('/users/1');
    expect(sent('if-none-match')).toEqual([null, '"a1"', '"a2"']);
  });

  it("keeps copies though every call carries orders' token, which still goes on the wire", async () => {
    // Orders' token, from a token endpoint (Node's fetch, here answered at once).
    jest
      .spyOn(globalThis, 'fetch')
      .mockResolvedValue(
        Response.json({ access_token: 'orders-token', token_type: 'Bearer' }),
      );
    const http = await start({
      USERS_SERVICE_TOKEN_URL: 'https://id.example.com/token',
      USERS_SERVICE_CLIENT_ID: 'orders',
      USERS_SERVICE_CLIENT_SECRET: 'secret',
    });
    // What a call does before it is sent: make sure of the token.
    await token.get(new AbortController().signal);
    for (let i = 0; i < 2; i++) await http.get('/users/1');
    expect(sent('authorization')).toEqual([
      'Bearer orders-token',
      'Bearer orders-token',
    ]);
    expect(sent('if-none-match')).toEqual([null, '"a1"']);
  });

  it('hands the last confirmed copy out within the stale window, and not past it', async () => {
    await (await start({ USERS_STALE_IF_ERROR_S: 60 })).get('/users/1');
    now += 30_000;
    expect(cache.confirmedCopy(1)).toEqual({
      body: '{"name":"Alice"}',
      confirmedMsAgo: 30_000,
    });
    now += 30_001;
    expect(cache.confirmedCopy(1)).toBeUndefined();
  });

  it('counts a 304 as a confirmation', async () => {
    const http = await start({ USERS_STALE_IF_ERROR_S: 60 });
    await http.get('/users/1');
    now += 50_000;
    await http.get('/users/1');
    now += 50_000;
    expect(cache.confirmedCopy(1)?.confirmedMsAgo).toBe(50_000);
  });

  it('hands out no copy with USERS_STALE_IF_ERROR_S=0, and keeps none with USERS_CACHE_MAX_ENTRIES=0', async () => {
    await (await start({ USERS_STALE_IF_ERROR_S: 0 })).get('/users/1');
    now += 1;
    expect(cache.confirmedCopy(1)).toBeUndefined();
    cache.onModuleDestroy();
    await pool.onApplicationShutdown();
    await server.close();
    const http = await start({ USERS_CACHE_MAX_ENTRIES: 0 });
    await http.get('/users/1');
    await http.get('/users/1');
    expect(sent('if-none-match')).toEqual([null, null]);
    expect(cache.confirmedCopy(1)).toBeUndefined();
  });

  it('drops the copy of a user users no longer knows (erased)', async () => {
    const http = await start();
    await http.get('/users/2');
    users.delete('/users/2');
    expect((await http.get('/users/2')).status).toBe(404);
    expect(cache.confirmedCopy(2)).toBeUndefined();
    users.set('/users/2', { body: '{"name":"Bob"}', tag: '"b1"' });
    await http.get('/users/2');
    // No copy left to revalidate: asked afresh.
    expect(sent('if-none-match')).toEqual([null, '"b1"', null]);
  });

  it('keeps at most USERS_CACHE_MAX_ENTRIES copies, the least recently confirmed forgotten first', async () => {
    const http = await start({ USERS_CACHE_MAX_ENTRIES: 2 });
    for (const id of [1, 2, 3]) await http.get(`/users/${id}`);
    expect(cache.confirmedCopy(1)).toBeUndefined();
    expect(cache.confirmedCopy(3)).toBeDefined();
    await http.get('/users/1');
    await http.get('/users/3');
    expect(sent('if-none-match').slice(3)).toEqual([null, '"c1"']);
  });

  it('counts a copy confirmed again as the most recent: the bound forgets the one confirmed longest ago', async () => {
    const http = await start({ USERS_CACHE_MAX_ENTRIES: 2 });
    for (const id of [1, 2, 1, 3]) await http.get(`/users/${id}`);
    // 1 was confirmed first, then again after 2: 2 is the one to go.
    expect(cache.confirmedCopy(1)).toBeDefined();
    expect(cache.confirmedCopy(2)).toBeUndefined();
    expect(cache.confirmedCopy(3)).toBeDefined();
  });

  it('keeps no copy of an answer over 16 kB, so the bytes are bounded with the entries', async () => {
    users.set('/users/4', {
      body: JSON.stringify({ name: 'x'.repeat(16 * 1024), email: 'x@y.io' }),
      tag: '"d1"',
    });
    const http = await start();
    await http.get('/users/4');
    await http.get('/users/4');
    await http.get('/users/1');
    await http.get('/users/1');
    // The large one is fetched whole each time; the small one is revalidated.
    expect(sent('if-none-match')).toEqual([null, null, null, '"a1"']);
  });

  it('forgets copies users has not confirmed for the stale window (at least a minute)', async () => {
    const http = await start({ USERS_STALE_IF_ERROR_S: 10 });
    await http.get('/users/1');
    now += 30_000;
    await http.get('/users/2');
    now += 30_001;
    cache.forgetUnconfirmed();
    await http.get('/users/1');
    await http.get('/users/2');
    expect(sent('if-none-match').slice(2)).toEqual([null, '"b1"']);
  });

  it('confirms a copy only on a 200 or a 304: a failed answer does not renew the stale window', async () => {
    const http = await start({ USERS_STALE_IF_ERROR_S: 60 });
    await http.get('/users/1');
    now += 50_000;
    users.set('/users/1', { body: '', tag: '', status: 500 });
    expect((await http.get('/users/1')).status).toBe(500);
    now += 10_000;
    // Still the 200's age: users has not confirmed the copy since.
    expect(cache.confirmedCopy(1)?.confirmedMsAgo).toBe(60_000);
    now += 1;
    expect(cache.confirmedCopy(1)).toBeUndefined();
  });

  it('does not confirm a 200 cut short: the copy keeps the age it had', async () => {
    const http = await start({ USERS_STALE_IF_ERROR_S: 60 });
    await http.get('/users/1');
    now += 50_000;
    users.set('/users/1', {
      body: '{"name":"Alicia"}',
      tag: '"a2"',
      cutShort: true,
    });
    // The error reaches the caller (no hang), and the copy is not confirmed by it.
    await expect(http.get('/users/1')).rejects.toThrow();
    expect(cache.confirmedCopy(1)).toEqual({
      body: '{"name":"Alice"}',
      confirmedMsAgo: 50_000,
    });
  });

  it('drops the copy of a user users says is gone for good (410), as for a 404', async () => {
    const http = await start();
    await http.get('/users/2');
    users.set('/users/2', { body: '', tag: '', status: 410 });
    expect((await http.get('/users/2')).status).toBe(410);
    expect(cache.confirmedCopy(2)).toBeUndefined();
    users.set('/users/2', { body: '{"name":"Bob"}', tag: '"b1"' });
    await http.get('/users/2');
    expect(sent('if-none-match')).toEqual([null, '"b1"', null]);
  });

  it('hands the copy out at exactly the end of the stale window', async () => {
    await (await start({ USERS_STALE_IF_ERROR_S: 60 })).get('/users/1');
    now += 60_000;
    expect(cache.confirmedCopy(1)?.confirmedMsAgo).toBe(60_000);
  });

  it('takes a path under a user (/users/1/orders) for no user: its answer is not trimmed as a copy of one', async () => {
    users.set('/users/1/orders', { body: '[]', tag: '"o1"' });
    const http = await start();
    await http.get('/users/1');
    await http.get('/users/1/orders');
    expect(storedHeaders('/users/1')).not.toHaveProperty('x-request-id');
    expect(storedHeaders('/users/1/orders')).toHaveProperty(
      'x-request-id',
      'from-users',
    );
  });

  it('keeps with a copy the headers that date it and that its reader acts on', async () => {
    const extra = {
      expires: 'Thu, 01 Jan 1970 00:00:00 GMT',
      'last-modified': 'Thu, 01 Jan 1970 00:00:00 GMT',
      vary: 'accept-language',
      'retry-after': '1',
      'www-authenticate': 'Bearer realm="users"',
    };
    users.set('/users/1', { body: '{"name":"Alice"}', tag: '"a1"', extra });
    const http = await start();
    await http.get('/users/1');
    await http.get('/users/1');
    const headers = storedHeaders('/users/1');
    expect(headers).toMatchObject(extra);
    expect(Object.keys(headers)).not.toContain('x-request-id');
  });

  it('drops the copy on a 304 that says no-store, as RFC 9111 asks', async () => {
    const http = await start();
    await http.get('/users/1');
    users.set('/users/1', {
      body: '{"name":"Alice"}',
      tag: '"a1"',
      extra: { 'cache-control': 'no-store' },
    });
    expect((await http.get('/users/1')).data).toBe('{"name":"Alice"}');
    await http.get('/users/1');
    // The last call had no copy to revalidate.
    expect(sent('if-none-match').slice(0, 2)).toEqual([null, '"a1"']);
    expect(sent('if-none-match').at(-1)).toBeNull();
  });

  it('keeps no copy of an answer whose Age says it is older than any cache keeps (a proxy in front of users)', async () => {
    users.set('/users/1', {
      body: '{"name":"Alice"}',
      tag: '"a1"',
      extra: { age: '2147483647' },
    });
    const http = await start();
    await http.get('/users/1');
    await http.get('/users/1');
    expect(sent('if-none-match')).toEqual([null, null]);
  });

  it('keeps copies for longer than a minute when the stale window is longer', async () => {
    const http = await start({ USERS_STALE_IF_ERROR_S: 120 });
    await http.get('/users/1');
    now += 90_000;
    cache.forgetUnconfirmed();
    expect(cache.confirmedCopy(1)?.confirmedMsAgo).toBe(90_000);
    now += 30_000;
    cache.forgetUnconfirmed();
    expect(cache.confirmedCopy(1)).toBeUndefined();
  });

  describe('its sweep, every half minute', () => {
    beforeEach(() => {
      // Only the sweep's interval is faked: the HTTP calls keep their real timers.
      fakeIntervalsOnly();
    });

    afterEach(() => jest.useRealTimers());

    it('forgets by itself the copies users has not confirmed for a minute', async () => {
      const http = await start({ USERS_STALE_IF_ERROR_S: 10 });
      await http.get('/users/1');
      now += 60_000;
      jest.advanceTimersByTime(29_999);
      await http.get('/users/1');
      now += 60_000;
      jest.advanceTimersByTime(1);
      await http.get('/users/1');
      // Kept until the first sweep (revalidated), forgotten by it (asked afresh).
      expect(sent('if-none-match')).toEqual([null, '"a1"', null]);
    });

    it('stops with the module, and never runs with copies off', async () => {
      await start();
      expect(jest.getTimerCount()).toBe(1);
      cache.onModuleDestroy();
      expect(jest.getTimerCount()).toBe(0);
      await pool.onApplicationShutdown();
      await server.close();
      await start({ USERS_CACHE_MAX_ENTRIES: 0 });
      expect(jest.getTimerCount()).toBe(0);
    });
  });

  it("sends orders' token with copies off (USERS_CACHE_MAX_ENTRIES=0), as with them on", async () => {
    jest
      .spyOn(globalThis, 'fetch')
      .mockResolvedValue(
        Response.json({ access_token: 'orders-token', token_type: 'Bearer' }),
      );
    const http = await start({
      USERS_CACHE_MAX_ENTRIES: 0,
      USERS_SERVICE_TOKEN_URL: 'https://id.example.com/token',
      USERS_SERVICE_CLIENT_ID: 'orders',
      USERS_SERVICE_CLIENT_SECRET: 'secret',
    });
    await token.get(new AbortController().signal);
    for (let i = 0; i < 2; i++) await http.get('/users/1');
    expect(sent('authorization')).toEqual([
      'Bearer orders-token',
      'Bearer orders-token',
    ]);
    expect(sent('if-none-match')).toEqual([null, null]);
  });

  it('keeps no more confirmation times than copies: the bound holds for its own bookkeeping too', async () => {
    const http = await start({ USERS_CACHE_MAX_ENTRIES: 2 });
    for (const id of [1, 2, 3]) await http.get(`/users/${id}`);
    // Names and times of users long gone must not pile up between sweeps.
    expect((Reflect.get(cache, 'confirmed') as Map<string, number>).size).toBe(
      2,
    );
  });

  it('frees the place of an erased user: it does not push out a copy still confirmed', async () => {
    const http = await start({ USERS_CACHE_MAX_ENTRIES: 2 });
    await http.get('/users/1');
    await http.get('/users/2');
    users.delete('/users/2');
    await http.get('/users/2');
    await http.get('/users/3');
    expect(cache.confirmedCopy(1)?.body).toBe('{"name":"Alice"}');
    expect(cache.confirmedCopy(3)?.body).toBe('{"name":"Carol"}');
  });
});
