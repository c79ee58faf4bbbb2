import { INestApplication } from '@nestjs/common';
import {
  answersByToken,
  createTestApp,
  expectedAnswersByToken,
  GuardedRoute,
  IdentityProvider,
  testConfig,
  validOpenApiDocument,
} from '@app/testing';
import type { OpenAPIV3 } from 'openapi-types';
import request from 'supertest';
import { App } from 'supertest/types';
import { service } from '../src/app.module';
import { UsersConfig } from '../src/users.config';

describe('users app with authentication on (e2e)', () => {
  let idp: IdentityProvider;
  let app: INestApplication<App>;

  const boot = async (settings: Partial<UsersConfig> = {}) => {
    app = await createTestApp(
      service.module(
        testConfig(UsersConfig, {
          AUTH_ISSUER: idp.issuer,
          AUTH_AUDIENCE: 'users',
          ...settings,
        }),
      ),
    );
  };
  const http = () => request(app.getHttpServer());
  const readerToken = () => idp.token({ scope: 'users:read' });
  const getUser = (token: string) =>
    http().get('/users/1').set('Authorization', `Bearer ${token}`);

  beforeEach(async () => {
    idp = await IdentityProvider.start();
  });

  afterEach(async () => {
    await app?.close();
    await idp.close();
  });

  let email = 0;
  const routes: GuardedRoute[] = [
    { method: 'get', path: '/users/1', scope: 'users:read', status: 200 },
    { method: 'get', path: '/users', scope: 'users:list', status: 200 },
    {
      method: 'post',
      path: '/users',
      body: () => ({ name: 'Dana', email: `dana${email++}@example.com` }),
      scope: 'users:write',
      status: 201,
    },
    {
      method: 'patch',
      path: '/users/1',
      body: () => ({ name: 'Alicia' }),
      headers: { 'If-Match': '*' },
      scope: 'users:write',
      status: 200,
    },
    // Past the guard, an unknown user: erasing needs its own scope, and then finds nobody.
    { method: 'delete', path: '/users/99', scope: 'users:delete', status: 404 },
  ];

  it.each(routes)(
    '$method $path: RFC 6750 answers for every bad token, its normal answer with $scope',
    async (route) => {
      await boot();
      await expect(
        answersByToken(app.getHttpServer(), idp, route, 'users'),
      ).resolves.toEqual(expectedAnswersByToken('users', route.status));
    },
  );

  it('answers 401 and 403 as problems naming no check, with the challenge', async () => {
    await boot();
    const missing = await http().get('/users/1').expect(401);
    expect(missing.headers['content-type']).toMatch(
      /^application\/problem\+json/,
    );
    expect(missing.body).toMatchObject({
      status: 401,
      detail: 'A bearer access token is required',
    });
    const expired = await http()
      .get('/users/1')
      .set(
        'Authorization',
        `Bearer ${await idp.token({ scope: 'users:read', expiresIn: -120 })}`,
      )
      .expect(401);
    expect(expired.body.detail).toBe('The access token is invalid or expired');
    expect(expired.headers['www-authenticate']).toBe(
      'Bearer realm="users", error="invalid_token", error_description="The access token is invalid or expired"',
    );
    const scope = await http()
      .get('/users')
      .set(
        'Authorization',
        `Bearer ${await idp.token({ scope: 'users:read' })}`,
      )
      .expect(403);
    expect(scope.headers['www-authenticate']).toBe(
      'Bearer realm="users", error="insufficient_scope", scope="users:list"',
    );
  });

  it('accepts a token a little past exp within the clock leeway, and not beyond it', async () => {
    await boot({ AUTH_CLOCK_TOLERANCE_S: 60 });
    const late = await idp.token({ scope: 'users:read', expiresIn: -30 });
    await getUser(late).expect(200);
    const tooLate = await idp.token({ scope: 'users:read', expiresIn: -90 });
    await getUser(tooLate).expect(401);
  });

  it("documents the bearer scheme and each route's scopes, for Swagger UI to authorize", async () => {
    await boot();
    const document = await validOpenApiDocument(app);
    expect(document.components?.securitySchemes).toEqual({
      bearer: expect.objectContaining({
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
      }),
    });
    const scopes = Object.fromEntries(
      Object.entries(document.paths).flatMap(([path, item]) =>
        (['get', 'post', 'patch', 'delete'] as const)
          .filter((method) => item?.[method])
          .map((method) => {
            const operation = item![method]! as OpenAPIV3.OperationObject & {
              'x-required-scopes'?: string[];
            };
            return [
              `${method.toUpperCase()} ${path}`,
              {
                security: operation.security,
                scopes: operation['x-required-scopes'],
                refusals: ['401', '403'].filter(
                  (s) => s in operation.responses,
                ),
              },
            ];
          }),
      ),
    );
    const guarded = (scope: string) => ({
      security: [{ bearer: [] }],
      scopes: [scope],
      refusals: ['401', '403'],
    });
    const open = { security: [], scopes: undefined, refusals: [] };
    expect(scopes).toEqual({
      'GET /users/{id}': guarded('users:read'),
      'GET /users': guarded('users:list'),
      'POST /users': guarded('users:write'),
      'PATCH /users/{id}': guarded('users:write'),
      'DELETE /users/{id}': guarded('users:delete'),
      'GET /health/live': open,
      'GET /health/ready': open,
      'GET /metrics': open,
    });
  });

  it('declares the bearer scheme with auth off too, where an API route takes no token or any, and asks for no scope', async () => {
    app = await createTestApp(service.module(testConfig(UsersConfig)));
    const document = await validOpenApiDocument(app);
    expect(document.components?.securitySchemes).toEqual({
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    });
    const getUser = document.paths['/users/{id}']!.get!;
    expect(getUser.security).toEqual([{}, { bearer: [] }]);
    expect(Object.keys(getUser.responses)).not.toContain('401');
    expect(document.paths['/health/live']!.get!.security).toEqual([]);
    // What it says is so: a request with a token, or without, is answered.
    await http().get('/users/1').expect(200);
    await http()
      .get('/users/1')
      .set('Authorization', 'Bearer not-checked')
      .expect(200);
  });

  it('keeps health, metrics and the docs open', async () => {
    await boot();
    await http().get('/health/live').expect(200);
    await http().get('/health/ready').expect(200);
    await http().get('/metrics').expect(200);
    await http().get('/openapi.json').expect(200);
    await http().get('/docs/').expect(200);
  });

  it('finds the key set through OpenID discovery and fetches it once for many tokens', async () => {
    await boot();
    for (let i = 0; i < 5; i += 1)
      await getUser(await readerToken()).expect(200);
    expect(idp.jwksRequests).toBe(1);
  });

  it('takes a rotated key without a restart: an unknown kid fetches the key set again', async () => {
    await boot({ AUTH_JWKS_URL: idp.jwksUrl, AUTH_JWKS_COOLDOWN_MS: 0 });
    const before = await readerToken();
    await getUser(before).expect(200);
    await idp.rotateKey();
    const after = await readerToken();
    await getUser(after).expect(200);
    expect(idp.jwksRequests).toBe(2);
    // The old key is gone from the set: its tokens no longer pass.
    await getUser(before).expect(401);
  });

  it('refetches the key set for an unknown kid at most once per cooldown', async () => {
    await boot({ AUTH_JWKS_URL: idp.jwksUrl, AUTH_JWKS_COOLDOWN_MS: 600_000 });
    await getUser(await readerToken()).expect(200);
    await idp.rotateKey();
    for (let i = 0; i < 3; i += 1)
      await getUser(await readerToken()).expect(401);
    expect(idp.jwksRequests).toBe(1);
  });

  it('answers 503, not 401, while the identity provider cannot be reached', async () => {
    await boot();
    const token = await readerToken();
    await idp.close();
    const response = await getUser(token).expect(503);
    expect(response.headers['retry-after']).toBe('5');
    idp = await IdentityProvider.start();
  });

  it('answers 503 with Retry-After, not 401, when the key set fails after discovery succeeded', async () => {
    await boot();
    idp.jwksAnswer = { status: 500, body: { error: 'server_error' } };
    const response = await getUser(await readerToken()).expect(503);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.headers['www-authenticate']).toBeUndefined();
    expect(idp.discoveryRequests).toBe(1);
  });

  it('answers 503 with Retry-After while discovery answers an error, and serves once it recovers', async () => {
    await boot();
    idp.discoveryAnswer = { status: 500, body: { error: 'server_error' } };
    const response = await getUser(await readerToken()).expect(503);
    expect(response.headers['retry-after']).toBe('5');
    idp.discoveryAnswer = undefined;
    await getUser(await readerToken()).expect(200);
  });

  it('refuses an RS256 token as invalid when AUTH_ALGORITHMS allows only ES256', async () => {
    await boot({ AUTH_ALGORITHMS: 'ES256' });
    const response = await getUser(await readerToken()).expect(401);
    expect(response.headers['www-authenticate']).toContain(
      'error="invalid_token"',
    );
    await getUser(
      await idp.token({ scope: 'users:read', alg: 'ES256' }),
    ).expect(200);
  });

  it('starts with spaces in AUTH_ALGORITHMS and accepts each algorithm listed', async () => {
    await boot({ AUTH_ALGORITHMS: 'RS256, ES256' });
    for (const alg of ['RS256', 'ES256'] as const)
      await getUser(await idp.token({ scope: 'users:read', alg })).expect(200);
  });

  it.each([
    ['unset (scope,scp)', 403, {}],
    ['scope,scp,roles', 200, { AUTH_SCOPE_CLAIMS: 'scope,scp,roles' }],
  ])(
    'with AUTH_SCOPE_CLAIMS %s, answers %p to a token whose scope is only in roles',
    async (_claims, status, settings: Partial<UsersConfig>) => {
      await boot(settings);
      await getUser(
        await idp.token({ claims: { roles: ['users:read'] } }),
      ).expect(status);
    },
  );
});
