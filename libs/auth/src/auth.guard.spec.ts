import { Controller, Get } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { IdentityProvider } from '@app/testing';
import type { IncomingMessage } from 'node:http';
import { AuthError } from './errors';
import { AuthGuard } from './auth.guard';
import { AuthSettings } from './auth.settings';
import { principalOf } from './principal';
import { RequireScopes } from './scopes.decorator';
import { TokenVerifier } from './token-verifier';

// No route of either app needs two scopes yet; the guard must still ask for all of them.
@Controller('things')
class ThingsController {
  @Get()
  @RequireScopes('things:read', 'things:audit')
  audit() {
    return [];
  }

  // Neither @RequireScopes nor @Public: RouteDeclarations refuses to start an app with such a
  // route, so the guard meets one only if that check is bypassed, and must still refuse it.
  @Get('undeclared')
  undeclared() {
    return [];
  }
}

describe('AuthGuard', () => {
  let idp: IdentityProvider;
  let guard: AuthGuard;

  beforeAll(async () => {
    idp = await IdentityProvider.start();
    const settings = Object.assign(new AuthSettings(), {
      AUTH_ISSUER: idp.issuer,
      AUTH_AUDIENCE: 'things',
    });
    guard = new AuthGuard(
      new Reflector(),
      'things',
      new TokenVerifier(settings),
    );
  });

  afterAll(() => idp.close());

  const request = (token: string) =>
    ({ headers: { authorization: `Bearer ${token}` } }) as IncomingMessage;
  const admit = (
    req: IncomingMessage,
    // The handler as Nest hands it to guards, to read its metadata; never called.
    // oxlint-disable-next-line typescript/unbound-method -- never called: Reflect reads its metadata
    handler: () => unknown = ThingsController.prototype.audit,
  ) =>
    guard.canActivate(
      new ExecutionContextHost([req, {}], ThingsController, handler),
    );
  const tokenWith = (scope: string) =>
    idp.token({
      aud: 'things',
      scope,
      sub: 'alice',
      claims: { client_id: 'web' },
    });

  it('admits a token with every scope the route requires', async () => {
    await expect(
      admit(request(await tokenWith('things:audit things:read'))),
    ).resolves.toBe(true);
  });

  it.each(['things:read', 'things:audit'])(
    'refuses a token with only %s, naming every required scope in the challenge',
    async (scope) => {
      const refusal = await admit(request(await tokenWith(scope))).catch(
        (error: unknown) => error,
      );
      expect(refusal).toBeInstanceOf(AuthError);
      expect(refusal).toMatchObject({
        status: 403,
        headers: {
          'WWW-Authenticate':
            'Bearer realm="things", error="insufficient_scope", scope="things:read things:audit"',
        },
      });
    },
  );

  it('leaves the principal on the request for its log line, refused for a scope too', async () => {
    const admitted = request(await tokenWith('things:read things:audit'));
    await admit(admitted);
    expect(principalOf(admitted)).toEqual({
      sub: 'alice',
      clientId: 'web',
      scopes: new Set(['things:read', 'things:audit']),
    });

    const refused = request(await tokenWith('things:read'));
    await expect(admit(refused)).rejects.toBeInstanceOf(AuthError);
    expect(principalOf(refused)).toMatchObject({
      sub: 'alice',
      clientId: 'web',
    });
  });

  it('admits a token after more than one space: RFC 6750 §2.1 allows 1*SP after the scheme', async () => {
    const token = await tokenWith('things:audit things:read');
    const spaced = {
      headers: { authorization: `bearer  ${token}` },
    } as IncomingMessage;
    await expect(admit(spaced)).resolves.toBe(true);
    expect(principalOf(spaced)).toMatchObject({ sub: 'alice' });
  });

  it('refuses a route that declares no scopes whatever the token carries, naming it undeclared', async () => {
    const refusal = await admit(
      request(await tokenWith('things:audit things:read')),
      // oxlint-disable-next-line typescript/unbound-method -- never called: Reflect reads its metadata
      ThingsController.prototype.undeclared,
    ).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(AuthError);
    expect(refusal).toMatchObject({
      status: 403,
      headers: {
        'WWW-Authenticate':
          'Bearer realm="things", error="insufficient_scope", scope="(undeclared)"',
      },
    });
  });

  it('refuses as an invalid token a header with more than a token after the scheme', async () => {
    const token = await tokenWith('things:audit things:read');
    const refusal = await admit({
      headers: { authorization: `Bearer junk ${token}` },
    } as IncomingMessage).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(AuthError);
    expect(refusal).toMatchObject({
      status: 401,
      headers: {
        'WWW-Authenticate': expect.stringContaining(
          'Bearer realm="things", error="invalid_token"',
        ),
      },
    });
  });
});
