import { INestApplication } from '@nestjs/common';
import {
  answer,
  createTestApp,
  hang,
  parsePrometheusText,
  refusedUrl,
  sampleValue,
  StandInHandler,
  StandInServer,
  testConfig,
} from '@app/testing';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { App } from 'supertest/types';
import { service } from '../src/app.module';
import { DatabaseSettings } from '@app/storage';
import { OrdersConfig } from '../src/orders.config';
import { UsersClientSettings } from '../src/users-client/users-client.settings';

/** A users app that is alive and knows Alice as user 1 and nobody else. */
const usersApp: StandInHandler = (req, res) => {
  if (req.url === '/health/live' || req.url === '/users/1') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      req.url === '/users/1'
        ? '{"name":"Alice","email":"alice@example.com"}'
        : '{"status":"ok"}',
    );
    return;
  }
  res.writeHead(404, { 'content-type': 'application/problem+json' });
  res.end('{"status":404}');
};

describe('orders app operations (e2e)', () => {
  let app: INestApplication<App>;
  let users: StandInServer | undefined;

  async function boot(
    usersUrl: string,
    overrides: Partial<OrdersConfig> = {},
  ): Promise<void> {
    app = await createTestApp(
      service.module(
        testConfig(OrdersConfig, {
          USERS_SERVICE_URL: usersUrl,
          // Readiness probes users within min(1 s, the attempt timeout): at a full second, a
          // loaded machine answering on loopback does not read as users timing out.
          USERS_SERVICE_TIMEOUT_MS: 1000,
          USERS_SERVICE_ATTEMPT_TIMEOUT_MS: 1000,
          USERS_SERVICE_RETRY_DELAY_MS: 10,
          ...overrides,
        }),
      ),
    );
  }

  afterEach(async () => {
    await app?.close();
    await users?.close();
    users = undefined;
  });

  const http = () => request(app.getHttpServer());

  it('gives each provider its settings as an instance of their own class, with their values', async () => {
    await boot('http://users.test:5001');
    const settings = app.get(UsersClientSettings);
    expect(settings).toBeInstanceOf(UsersClientSettings);
    expect(settings.USERS_SERVICE_URL).toBe('http://users.test:5001');
    expect(settings).not.toHaveProperty('ORDERS_PORT');
    expect(app.get(DatabaseSettings)).toBeInstanceOf(DatabaseSettings);
    expect(app.get(OrdersConfig)).toBeInstanceOf(OrdersConfig);
    expect(app.get(OrdersConfig).ORDERS_PORT).toBe(5002);
  });

  describe('readiness', () => {
    it('reports the users app reachable', async () => {
      users = await StandInServer.start(usersApp);
      await boot(users.url);
      const response = await http().get('/health/ready').expect(200);
      expect(response.body).toMatchObject({
        status: 'ok',
        details: {
          lifecycle: { status: 'up', state: 'ready' },
          users: { status: 'up', reachable: true, circuit: 'closed' },
        },
      });
      expect(users.requests.map((r) => r.url)).toEqual(['/health/live']);
    });

    it('stays ready while the users app is down, and says so in its body', async () => {
      await boot(await refusedUrl());
      const response = await http().get('/health/ready').expect(200);
      expect(response.body).toMatchObject({
        status: 'degraded',
        details: {
          lifecycle: { status: 'up' },
          users: {
            status: 'degraded',
            reachable: false,
            detail: 'The users service is unavailable',
          },
        },
      });
    });

    // A users app whose liveness fails, or a URL that reaches something else: an answer is not
    // enough, only a 200 says users is there, and the status tells the operator which case it is.
    it.each([500, 503, 404])(
      'reports a users app whose liveness answers %s as unreachable, naming the status',
      async (status) => {
        users = await StandInServer.start(answer(status, '{"status":"error"}'));
        await boot(users.url);
        const response = await http().get('/health/ready').expect(200);
        expect(response.body.status).toBe('degraded');
        expect(response.body.details.users).toEqual({
          status: 'degraded',
          reachable: false,
          detail: `answered ${status}`,
          circuit: 'closed',
        });
      },
    );

    it('reports a users app that hangs as unreachable, within the probe timeout', async () => {
      users = await StandInServer.start(hang);
      await boot(users.url, {
        USERS_SERVICE_TIMEOUT_MS: 200,
        USERS_SERVICE_ATTEMPT_TIMEOUT_MS: 200,
      });
      const response = await http().get('/health/ready').expect(200);
      expect(response.body.details.users).toEqual({
        status: 'degraded',
        reachable: false,
        detail: 'The users service did not answer within 200 ms',
        circuit: 'closed',
      });
    });
  });

  describe('request ids across the hop', () => {
    beforeEach(async () => {
      users = await StandInServer.start(usersApp);
      await boot(users.url);
    });

    it('sends the users app the id it answers the client with', async () => {
      const response = await http().get('/orders/1').expect(200);
      const id = response.headers['x-request-id'];
      expect(id).toBeTruthy();
      expect(users!.requests[0].headers['x-request-id']).toBe(id);
    });

    it("passes a client's own id on unchanged", async () => {
      await http()
        .get('/orders/1')
        .set('X-Request-Id', 'client-42')
        .expect(200);
      expect(users!.requests[0].headers['x-request-id']).toBe('client-42');
    });

    it('keeps requests apart: each call to users carries its own request id', async () => {
      const ids = ['one', 'two', 'three', 'four', 'five'];
      await Promise.all(
        ids.map((id) => http().get('/orders/1').set('X-Request-Id', id)),
      );
      const forwarded = users!.requests.map((r) =>
        String(r.headers['x-request-id']),
      );
      expect(forwarded.sort((a, b) => a.localeCompare(b))).toEqual(
        [...ids].sort((a, b) => a.localeCompare(b)),
      );
    });

    it('passes the id on from a POST whose body arrives after its headers', async () => {
      const server = app.getHttpServer() as unknown as Server;
      await new Promise<void>((resolve) =>
        server.listen(0, '127.0.0.1', resolve),
      );
      const { port } = server.address() as AddressInfo;
      const body = '{"user_id": 1, "product": "Tablet"}';
      const post = httpRequest({
        port,
        host: '127.0.0.1',
        method: 'POST',
        path: '/orders',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-request-id': 'late-body-1',
        },
      });
      const answered = new Promise<number | undefined>((resolve) =>
        post.on('response', (response) => {
          response.resume();
          resolve(response.statusCode);
        }),
      );
      post.flushHeaders();
      await sleep(100);
      post.end(body);
      await expect(answered).resolves.toBe(201);
      expect(users!.requests[0].headers['x-request-id']).toBe('late-body-1');
    });
  });

  describe('metrics of the calls to users', () => {
    async function countByOutcome(): Promise<
      Record<string, number | undefined>
    > {
      const samples = parsePrometheusText(
        (await http().get('/metrics').expect(200)).text,
      );
      return Object.fromEntries(
        ['ok', 'not_found', 'timeout', 'unavailable', 'bad_gateway'].map(
          (outcome) => [
            outcome,
            sampleValue(
              samples,
              'users_client_request_duration_seconds_count',
              { outcome },
            ),
          ],
        ),
      );
    }

    it('counts ok and not_found', async () => {
      users = await StandInServer.start(usersApp);
      await boot(users.url);
      await http().get('/orders/1').expect(200);
      await http().get('/orders/2').expect(200); // user 2 is unknown to this users app
      await expect(countByOutcome()).resolves.toEqual({
        ok: 1,
        not_found: 1,
        timeout: undefined,
        unavailable: undefined,
        bad_gateway: undefined,
      });
    });

    it.each([
      ['timeout', () => StandInServer.start(hang)],
      ['bad_gateway', () => StandInServer.start(answer(500, '{}'))],
    ])('counts %s', async (outcome, start) => {
      users = await start();
      await boot(users.url);
      await http().get('/orders/1');
      expect((await countByOutcome())[outcome]).toBe(1);
    });

    it('counts unavailable', async () => {
      await boot(await refusedUrl());
      await http().get('/orders/1').expect(503);
      expect((await countByOutcome()).unavailable).toBe(1);
    });
  });
});
