import { loadConfig } from '@app/config';
import { IdentityProvider } from '@app/testing';
import { Logger } from '@nestjs/common';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { AuthError } from './errors';
import { AuthSettings } from './auth.settings';
import { TokenVerifier } from './token-verifier';

describe('TokenVerifier', () => {
  let idp: IdentityProvider;
  let warnings: jest.SpyInstance;

  const verifier = (env: Record<string, string> = {}) =>
    new TokenVerifier(
      loadConfig(AuthSettings, {
        AUTH_ISSUER: idp.issuer,
        AUTH_AUDIENCE: 'users',
        ...env,
      }),
    );
  const readerToken = (
    options: Parameters<IdentityProvider['token']>[0] = {},
  ) => idp.token({ scope: 'users:read', ...options });
  /** How `verify` ended: the scopes it found, or the status it refused with. */
  const outcome = (verifying: Promise<{ scopes: ReadonlySet<string> }>) =>
    verifying.then(
      ({ scopes }) => [...scopes].join(' '),
      (error: unknown) => {
        if (!(error instanceof AuthError)) throw error;
        return error.status;
      },
    );
  const logged = () => warnings.mock.calls.map(([message]) => String(message));

  beforeEach(async () => {
    idp = await IdentityProvider.start();
    warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation();
  });

  afterEach(async () => {
    warnings.mockRestore();
    await idp.close();
  });

  describe('OpenID discovery', () => {
    it('refuses a document that names another issuer (Discovery §4.3): its keys are never fetched', async () => {
      idp.discoveryAnswer = {
        status: 200,
        body: { ...idp.discoveryDocument(), issuer: 'https://id.evil.example' },
      };
      await expect(
        outcome(verifier().verify(await readerToken(), 'users')),
      ).resolves.toBe(503);
      expect(idp.jwksRequests).toBe(0);
      expect(logged()).toEqual([
        expect.stringContaining('names the issuer https://id.evil.example'),
      ]);
    });

    it('refuses a document without jwks_uri, saying so', async () => {
      idp.discoveryAnswer = {
        status: 200,
        body: { ...idp.discoveryDocument(), jwks_uri: undefined },
      };
      await expect(
        outcome(verifier().verify(await readerToken(), 'users')),
      ).resolves.toBe(503);
      expect(logged()).toEqual([expect.stringContaining('has no jwks_uri')]);
    });

    it.each([
      ['an error page', 404, () => ({ error: 'not_found' })],
      // Some proxies answer an error with a cached body: the status, not the body, decides.
      ['an error with a document body', 503, () => idp.discoveryDocument()],
    ])(
      'takes a non-2xx answer (%s) as keys unavailable, and asks again on the next token',
      async (_what, status, body) => {
        idp.discoveryAnswer = { status, body: body() };
        const verifying = verifier();
        await expect(
          outcome(verifying.verify(await readerToken(), 'users')),
        ).resolves.toBe(503);
        expect(logged()).toEqual([
          expect.stringContaining(`answered ${status}`),
        ]);

        idp.discoveryAnswer = undefined;
        await expect(
          outcome(verifying.verify(await readerToken(), 'users')),
        ).resolves.toBe('users:read');
        expect(idp.discoveryRequests).toBe(2);
      },
    );

    it.each(['/', '/realms/shop', '/realms/shop/'])(
      'finds the document of an issuer with the path %p, appending to it without a double slash',
      async (path) => {
        await idp.close();
        idp = await IdentityProvider.start(path);
        await expect(
          outcome(verifier().verify(await readerToken(), 'users')),
        ).resolves.toBe('users:read');
        expect(idp.discoveryRequests).toBe(1);
      },
    );

    it.each([
      ['with', '/', ''],
      ['without', '', '/'],
    ])(
      'compares the issuer exactly: a document %s the trailing slash is not for an issuer configured otherwise',
      async (_what, served, configuredExtra) => {
        await idp.close();
        idp = await IdentityProvider.start(served);
        const configured = `${idp.issuer.replace(/\/$/, '')}${configuredExtra}`;
        await expect(
          outcome(
            verifier({ AUTH_ISSUER: configured }).verify(
              await readerToken({ iss: configured }),
              'users',
            ),
          ),
        ).resolves.toBe(503);
        expect(logged()).toEqual([
          expect.stringContaining(
            `names the issuer ${idp.issuer}, not ${configured}`,
          ),
        ]);
      },
    );

    it('gives up on a discovery endpoint that takes the connection and never answers (keys unavailable, 503)', async () => {
      // A server that accepts and then says nothing: without a deadline on discovery, every
      // request behind it would wait forever instead of answering 503.
      const sockets = new Set<Socket>();
      const silent = createServer((socket) => sockets.add(socket));
      await new Promise<void>((resolve) =>
        silent.listen(0, '127.0.0.1', resolve),
      );
      const { port } = silent.address() as AddressInfo;
      try {
        const verifying = verifier({
          AUTH_ISSUER: `http://127.0.0.1:${port}`,
        });
        const started = performance.now();
        await expect(
          outcome(verifying.verify(await readerToken(), 'users')),
        ).resolves.toBe(503);
        // The discovery request's own 5 s deadline, not the test's.
        expect(performance.now() - started).toBeGreaterThanOrEqual(4_900);
        expect(logged()).toEqual([
          expect.stringContaining('OpenID discovery failed'),
        ]);
        expect(sockets.size).toBe(1);
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => silent.close(resolve));
      }
    }, 20_000);

    it('is skipped when AUTH_JWKS_URL is set: the discovery endpoint is never asked', async () => {
      idp.discoveryAnswer = { status: 500, body: {} };
      await expect(
        outcome(
          verifier({ AUTH_JWKS_URL: idp.jwksUrl }).verify(
            await readerToken(),
            'users',
          ),
        ),
      ).resolves.toBe('users:read');
      expect(idp.discoveryRequests).toBe(0);
      expect(idp.jwksRequests).toBe(1);
    });
  });

  it.each([
    ['answers 500', { status: 500, body: {} }],
    ['answers no key set', { status: 200, body: { keys: 'none' } }],
  ])(
    'takes a key set endpoint that %s after discovery as keys unavailable (503), not a bad token',
    async (_what, answer) => {
      idp.jwksAnswer = answer;
      await expect(
        outcome(verifier().verify(await readerToken(), 'users')),
      ).resolves.toBe(503);
      expect(idp.discoveryRequests).toBe(1);
      // The operator's clue: why, under the Auth context of the service's log.
      expect(logged()).toEqual([
        expect.stringContaining('Token not verified: '),
      ]);
      expect(warnings.mock.contexts).toEqual([
        expect.objectContaining({ context: 'Auth' }),
      ]);
    },
  );

  describe('AUTH_ALGORITHMS', () => {
    it('refuses a token signed with an algorithm not listed, though its key is in the key set', async () => {
      const es256Only = verifier({ AUTH_ALGORITHMS: 'ES256' });
      await expect(
        outcome(es256Only.verify(await readerToken({ alg: 'ES256' }), 'users')),
      ).resolves.toBe('users:read');
      await expect(
        outcome(es256Only.verify(await readerToken({ alg: 'RS256' }), 'users')),
      ).resolves.toBe(401);
    });

    it('reads a list with spaces as the settings accept it', async () => {
      const both = verifier({ AUTH_ALGORITHMS: 'RS256, ES256' });
      for (const alg of ['RS256', 'ES256'] as const)
        await expect(
          outcome(both.verify(await readerToken({ alg }), 'users')),
        ).resolves.toBe('users:read');
    });
  });

  it('reads scopes from the claims AUTH_SCOPE_CLAIMS names', async () => {
    const roles = await idp.token({ claims: { roles: ['users:read'] } });
    await expect(outcome(verifier().verify(roles, 'users'))).resolves.toBe('');
    await expect(
      outcome(
        verifier({ AUTH_SCOPE_CLAIMS: 'scp,roles' }).verify(roles, 'users'),
      ),
    ).resolves.toBe('users:read');
  });
});
