import { INestApplication } from '@nestjs/common';
import {
  answer,
  answersByToken,
  createTestApp,
  expectedAnswersByToken,
  GuardedRoute,
  IdentityProvider,
  parsePrometheusText,
  refusedUrl,
  sampleValue,
  StandInServer,
  testConfig,
} from '@app/testing';
import { decodeJwt, type JWTPayload } from 'jose';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { App } from 'supertest/types';
import { service } from '../src/app.module';
import { OrdersConfig } from '../src/orders.config';

const ALICE = '{"name":"Alice","email":"alice@example.com"}';

describe('orders app with authentication on (e2e)', () => {
  let idp: IdentityProvider;
  let users: StandInServer;
  let app: INestApplication<App>;

  const boot = async (settings: Partial<OrdersConfig> = {}) => {
    app = await createTestApp(
      service.module(
        testConfig(OrdersConfig, {
          USERS_SERVICE_URL: users.url,
          ...settings,
        }),
      ),
    );
  };
  const http = () => request(app.getHttpServer());
  /** What the users app was sent in Authorization, call by call. */
  const sentToUsers = () => users.requests.map((r) => r.headers.authorization);

  beforeEach(async () => {
    idp = await IdentityProvider.start();
  });

  afterEach(async () => {
    await app?.close();
    await users?.close();
    await idp.close();
  });

  describe('its own routes', () => {
    beforeEach(async () => {
      users = await StandInServer.start(answer(200, ALICE));
      await boot({ AUTH_ISSUER: idp.issuer, AUTH_AUDIENCE: 'orders' });
    });

    const routes: GuardedRoute[] = [
      { method: 'get', path: '/orders/1', scope: 'orders:read', status: 200 },
      { method: 'get', path: '/orders', scope: 'orders:read', status: 200 },
      {
        method: 'post',
        path: '/orders',
        body: () => ({ user_id: 2, product: 'Tablet' }),
        scope: 'orders:write',
        status: 201,
      },
    ];

    it.each(routes)(
      '$method $path: RFC 6750 answers for every bad token, its normal answer with $scope',
      async (route) => {
        await expect(
          answersByToken(app.getHttpServer(), idp, route, 'orders'),
        ).resolves.toEqual(expectedAnswersByToken('orders', route.status));
      },
    );

    it("never forwards the caller's token to users", async () => {
      const caller = await idp.token({ aud: 'orders', scope: 'orders:read' });
      await http()
        .get('/orders/1')
        .set('Authorization', `Bearer ${caller}`)
        .expect(200);
      expect(sentToUsers()).toEqual([undefined]);
    });
  });

  it('reads scopes only from the claims AUTH_SCOPE_CLAIMS names', async () => {
    users = await StandInServer.start(answer(200, ALICE));
    await boot({
      AUTH_ISSUER: idp.issuer,
      AUTH_AUDIENCE: 'orders',
      AUTH_SCOPE_CLAIMS: 'scp,roles',
    });
    const getWith = (token: string) =>
      http().get('/orders/1').set('Authorization', `Bearer ${token}`);
    const tokenWith = (claims: JWTPayload) =>
      idp.token({ aud: 'orders', claims });
    await getWith(await tokenWith({ roles: ['orders:read'] })).expect(200);
    await getWith(await tokenWith({ scope: 'orders:read' })).expect(403);
  });

  describe("the hop: orders' own token for users", () => {
    const identity = () => idp.usersServiceIdentity();

    const usersCalls = async (outcome: string) =>
      sampleValue(
        parsePrometheusText((await http().get('/metrics')).text),
        'users_client_request_duration_seconds_count',
        { outcome },
      );

    it('gets one token with client credentials for many calls, and sends it, not the caller’s', async () => {
      users = await StandInServer.start(answer(200, ALICE));
      await boot({
        ...identity(),
        AUTH_ISSUER: idp.issuer,
        AUTH_AUDIENCE: 'orders',
      });
      const caller = await idp.token({ aud: 'orders', scope: 'orders:read' });
      await Promise.all(
        Array.from({ length: 5 }, () =>
          http()
            .get('/orders/1')
            .set('Authorization', `Bearer ${caller}`)
            .expect(200),
        ),
      );
      await http()
        .get('/orders/2')
        .set('Authorization', `Bearer ${caller}`)
        .expect(200);

      expect(idp.tokenRequests).toHaveLength(1);
      const [{ clientId, form }] = idp.tokenRequests;
      expect(clientId).toBe('orders');
      expect(Object.fromEntries(form)).toEqual({
        grant_type: 'client_credentials',
        scope: 'users:read',
      });
      const sent = sentToUsers();
      expect(sent).toHaveLength(6);
      expect(new Set(sent).size).toBe(1);
      expect(sent[0]).not.toBe(`Bearer ${caller}`);
      expect(decodeJwt(sent[0]!.replace('Bearer ', ''))).toMatchObject({
        client_id: 'orders',
        scope: 'users:read',
      });
    });

    it('names users as the resource (RFC 8707) when USERS_SERVICE_TOKEN_RESOURCE is set, and gets a token for it', async () => {
      users = await StandInServer.start(answer(200, ALICE));
      await boot({
        ...identity(),
        USERS_SERVICE_TOKEN_RESOURCE: 'https://users.example.com',
      });
      await http().get('/orders/1').expect(200);
      expect(Object.fromEntries(idp.tokenRequests[0].form)).toEqual({
        grant_type: 'client_credentials',
        scope: 'users:read',
        resource: 'https://users.example.com',
      });
      expect(decodeJwt(sentToUsers()[0]!.replace('Bearer ', ''))).toMatchObject(
        { aud: 'https://users.example.com' },
      );
    });

    it('fetches a new token once the cached one nears its expiry', async () => {
      users = await StandInServer.start(answer(200, ALICE));
      idp.tokenLifetimeS = 1;
      await boot(identity());
      await http().get('/orders/1').expect(200);
      // Past the token's usable life (it is dropped 100 ms before its expiry).
      await sleep(1100);
      await http().get('/orders/1').expect(200);
      expect(idp.tokenRequests).toHaveLength(2);
      expect(new Set(sentToUsers()).size).toBe(2);
    });

    it('refreshes once on a 401 from users, and tries again with the new token', async () => {
      let refused: string | undefined;
      users = await StandInServer.start((req, res) => {
        // Refuses the first token it sees, as after an early key rotation.
        refused ??= req.headers.authorization;
        if (req.headers.authorization === refused)
          res
            .writeHead(401, {
              'www-authenticate': 'Bearer error="invalid_token"',
            })
            .end();
        else answer(200, ALICE)(req, res);
      });
      await boot(identity());
      await http().get('/orders/1').expect(200);
      expect(idp.tokenRequests).toHaveLength(2);
      expect(sentToUsers()).toHaveLength(2);
      // The new token is kept.
      await http().get('/orders/1').expect(200);
      expect(idp.tokenRequests).toHaveLength(2);
    });

    it('refreshes only once when users refuses every token: a 502, not a loop', async () => {
      users = await StandInServer.start(answer(401, ''));
      await boot(identity());
      await http().get('/orders/1').expect(502);
      expect(idp.tokenRequests).toHaveLength(2);
      expect(sentToUsers()).toHaveLength(2);
    });

    it('waits for one token fetch in flight, however many calls need it', async () => {
      users = await StandInServer.start(answer(200, ALICE));
      idp.tokenDelayMs = 300;
      await boot(identity());
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => http().get('/orders/1')),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
      expect(idp.tokenRequests).toHaveLength(1);
    });

    it.each([
      [
        'down',
        async () => ({
          USERS_SERVICE_TOKEN_URL: `${await refusedUrl()}/token`,
        }),
      ],
      [
        'refusing orders (wrong secret)',
        async () => ({ USERS_SERVICE_CLIENT_SECRET: 'wrong' }),
      ],
    ])(
      'answers 503 like users being down while the token endpoint is %s, counted as token_unavailable',
      async (_what, fault) => {
        users = await StandInServer.start(answer(200, ALICE));
        await boot({ ...identity(), ...(await fault()) });
        const response = await http().get('/orders/1').expect(503);
        expect(response.headers['content-type']).toMatch(
          /^application\/problem\+json/,
        );
        expect(response.body.detail).toBe(
          'The users service is unavailable: no access token for it could be had',
        );
        expect(response.headers['retry-after']).toBe('1');
        expect(response.text).not.toContain('orders-secret');
        expect(users.requests).toHaveLength(0);
        await expect(usersCalls('token_unavailable')).resolves.toBe(1);
      },
    );

    it('answers 503 within the call deadline while the token endpoint hangs', async () => {
      users = await StandInServer.start(answer(200, ALICE));
      idp.tokenEndpointFault = () => true; // never answers
      await boot({
        ...identity(),
        USERS_SERVICE_TIMEOUT_MS: 300,
        USERS_SERVICE_ATTEMPT_TIMEOUT_MS: 300,
      });
      const response = await http().get('/orders/1').expect(503);
      // The deadline was spent waiting for the token endpoint, not for users: the answer and the
      // metric name the token, so an operator looks at the identity provider, not at users.
      expect(response.body.detail).toBe(
        'The users service is unavailable: no access token for it could be had',
      );
      expect(response.headers['retry-after']).toBe('1');
      expect(users.requests).toHaveLength(0);
      await expect(usersCalls('token_unavailable')).resolves.toBe(1);
      await expect(usersCalls('timeout')).resolves.toBeUndefined();
    });

    it('does not hold a hanging token endpoint against users: the circuit to users stays closed', async () => {
      users = await StandInServer.start(answer(200, ALICE));
      idp.tokenEndpointFault = () => true; // never answers
      await boot({
        ...identity(),
        USERS_SERVICE_TIMEOUT_MS: 200,
        USERS_SERVICE_ATTEMPT_TIMEOUT_MS: 200,
        USERS_SERVICE_BREAKER_THRESHOLD: 2,
      });
      for (let i = 0; i < 4; i++) await http().get('/orders/1').expect(503);
      const ready = await http().get('/health/ready').expect(200);
      expect(ready.body.details.users).toMatchObject({ circuit: 'closed' });
      idp.tokenEndpointFault = () => false;
      await http().get('/orders/1').expect(200);
      await expect(usersCalls('token_unavailable')).resolves.toBe(4);
      await expect(usersCalls('unavailable')).resolves.toBeUndefined();
    });

    it.each([
      ['held since an earlier call', true],
      ['just fetched for this call', false],
    ])(
      'answers 504, not "no token", when users is slow and the token is %s',
      async (_when, earlierCall) => {
        // Knows Alice at once; never answers for anyone else.
        users = await StandInServer.start((req, res) => {
          if (req.url === '/users/1') answer(200, ALICE)(req, res);
        });
        await boot({
          ...identity(),
          USERS_SERVICE_TIMEOUT_MS: 1000,
          USERS_SERVICE_ATTEMPT_TIMEOUT_MS: 1000,
        });
        if (earlierCall) await http().get('/orders/1').expect(200);
        const response = await http().get('/orders/2').expect(504);
        expect(response.body.detail).toBe(
          'The users service did not answer within 1000 ms',
        );
        expect(idp.tokenRequests).toHaveLength(1);
        await expect(usersCalls('timeout')).resolves.toBe(1);
        await expect(usersCalls('token_unavailable')).resolves.toBeUndefined();
      },
    );
  });
});
