import {
  answer,
  hang,
  refusedUrl,
  StandInHandler,
  StandInServer,
  testConfig,
} from '@app/testing';
import axios, { AxiosError, AxiosHeaders, isAxiosError, isCancel } from 'axios';
import { getEventListeners } from 'node:events';
import { OrdersConfig } from '../orders.config';
import { isConnectionError } from './users-call.policy';
import { AccessTokenService } from './access-token.service';
import { UsersEndpoint } from './users-client.settings';
import { UsersCache } from './users.cache';
import { UsersTransport } from './users.transport';

/** axios over the users connections, as HttpService has it, against a real loopback server. */
describe('UsersTransport (undici under axios)', () => {
  let server: StandInServer | undefined;
  let connections: UsersTransport | undefined;
  let endpoint: UsersEndpoint;

  afterEach(async () => {
    await connections?.onApplicationShutdown();
    await server?.close();
    server = connections = undefined;
  });

  function client(usersUrl: string) {
    const settings = testConfig(OrdersConfig, { USERS_SERVICE_URL: usersUrl });
    endpoint = new UsersEndpoint(settings);
    connections = new UsersTransport(
      endpoint,
      new UsersCache(settings, endpoint),
      new AccessTokenService(settings),
    );
    return axios.create({ adapter: connections.adapter });
  }

  async function serve(handler: StandInHandler) {
    server = await StandInServer.start(handler);
    return server;
  }

  it('sends the request to the path under the users URL and gives status and body back', async () => {
    const users = await serve((request, response) => {
      response.writeHead(200, {
        'content-type': 'application/json',
        'retry-after': '3',
        'x-frame-options': 'DENY',
      });
      response.end(`{"url":"${request.url}"}`);
    });
    const http = client(`${users.url}/api/`);
    const response = await http.get(endpoint.userPath(1), {
      headers: { 'x-request-id': 'abc' },
      responseType: 'text',
      transformResponse: (data: string) => data,
    });
    expect(response.status).toBe(200);
    expect(response.statusText).toBe('OK');
    expect(response.data).toBe('{"url":"/api/users/1"}');
    expect(users.requests[0].method).toBe('GET');
    expect(users.requests[0].headers['x-request-id']).toBe('abc');
    // Only what a caller of users acts on: axios would normalize every header otherwise.
    expect(
      (response.headers as InstanceType<typeof AxiosHeaders>).toJSON(),
    ).toEqual({
      'content-type': 'application/json',
      'retry-after': '3',
    });
  });

  it('keeps a connection alive across calls', async () => {
    const users = await serve(answer(200, '{}'));
    const http = client(users.url);
    for (let i = 0; i < 5; i++) {
      await http.get('/users/1');
      // A call made in the very tick the last one ended finds its connection not yet free.
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(users.requests).toHaveLength(5);
    expect(users.connections).toBe(1);
  });

  it('answers a status outside validateStatus as axios does: an error with the response', async () => {
    const users = await serve(answer(503, 'busy', 'text/plain'));
    const error = await client(users.url)
      .get('/users/1')
      .catch((e: unknown) => e);
    expect(isAxiosError(error)).toBe(true);
    expect((error as AxiosError).message).toBe(
      'Request failed with status code 503',
    );
    expect((error as AxiosError).response?.status).toBe(503);
    expect(isConnectionError(error)).toBe(false);
  });

  it('turns a refused connection into an axios error with its code and no response', async () => {
    const error = await client(await refusedUrl())
      .get('/users/1')
      .catch((e: unknown) => e);
    expect(isAxiosError(error)).toBe(true);
    expect((error as AxiosError).code).toBe('ECONNREFUSED');
    // The network error's own words, for the warning that names it.
    expect((error as AxiosError).message).toMatch(/^connect ECONNREFUSED /);
    expect((error as AxiosError).message).toBe(
      ((error as AxiosError).cause as Error).message,
    );
    expect(isConnectionError(error)).toBe(true);
  });

  it('turns a connection reset mid-answer into a connection error', async () => {
    const users = await serve((_request, response) => {
      response.writeHead(200, { 'content-length': '100' });
      response.write('{"name":');
      setTimeout(() => response.socket?.destroy(), 10);
    });
    const error = await client(users.url)
      .get('/users/1')
      .catch((e: unknown) => e);
    expect(isConnectionError(error)).toBe(true);
  });

  it('aborts on the signal with a CanceledError, which is not a connection error', async () => {
    const users = await serve(hang);
    const controller = new AbortController();
    const call = client(users.url)
      .get('/users/1', { signal: controller.signal })
      .catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort();
    const error = await call;
    expect(isCancel(error)).toBe(true);
    expect(isConnectionError(error)).toBe(false);
  });

  it('lets go of the signal once the answer has come, or the request has failed', async () => {
    // One signal for many requests, as a call's deadline spans its attempts: none may stay on it.
    const deadline = new AbortController().signal;
    const users = await serve(answer(200, '{}'));
    const http = client(users.url);
    await http.get('/users/1', { signal: deadline });
    await http.get('/users/2', { signal: deadline });
    expect(getEventListeners(deadline, 'abort')).toHaveLength(0);
    await connections!.onApplicationShutdown();
    await server!.close();
    server = undefined;
    const refusing = client(await refusedUrl());
    await expect(
      refusing.get('/users/1', { signal: deadline }),
    ).rejects.toThrow();
    expect(getEventListeners(deadline, 'abort')).toHaveLength(0);
  });

  it('closes its connections at shutdown', async () => {
    const users = await serve(answer(200, '{}'));
    const http = client(users.url);
    await http.get('/users/1');
    await connections!.onApplicationShutdown();
    await expect(http.get('/users/1')).rejects.toThrow();
    connections = undefined;
  });
});
