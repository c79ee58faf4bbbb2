import { StandInServer, testConfig } from '@app/testing';
import axios from 'axios';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OrdersConfig } from '../orders.config';
import { AccessTokenService } from './access-token.service';
import { UsersEndpoint } from './users-client.settings';
import { UsersCache } from './users.cache';
import { UsersTransport } from './users.transport';

/**
 * A users service as HTTP sees it: each user with an ETag, `Cache-Control: no-cache`, and 304 for
 * If-None-Match with the current tag; users may change or go.
 */
function usersLike(users: Map<string, { body: string; tag: string }>) {
  return (request: IncomingMessage, response: ServerResponse) => {
    const user = users.get(request.url ?? '');
    if (!user) {
      response.writeHead(404, { 'content-type': 'application/problem+json' });
      response.end('{}');
      return;
    }
    const headers = {
      etag: user.tag,
      'cache-control': 'no-cache',
      // As helmet and the request id add them to every answer of the users app.
      'x-frame-options': 'SAMEORIGIN',
      'x-request-id': 'from-users',
    };
    if (request.headers['if-none-match'] === user.tag) {
      response.writeHead(304, headers);
      response.end();
      return;
    }
    response.writeHead(200, { ...headers, 'content-type': 'application/json' });
    response.end(user.body);
  };
}

describe('UsersCache (undici cache in front of the users pool)', () => {
  let server: StandInServer;
  let pool: UsersTransport;
  let cache: UsersCache;
  let token: AccessTokenService;
  let now: number;
  const users = new Map<string, { body: string; tag: string }>();

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
    const store = Reflect.get(cache, 'store') as {
      get(key: { origin: string; method: string; path: string }): {
        headers: Record<string, unknown>;
      };
    };
    const stored = store.get({
      origin: new URL(server.url).origin,
      method: 'GET',
      path: '/users/1',
    });
    expect(Object.keys(stored.headers).sort()).toEqual([
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
});
