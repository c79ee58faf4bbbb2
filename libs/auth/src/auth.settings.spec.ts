import { loadConfig } from '@app/config';
import { AuthSettings } from './auth.settings';

describe('AuthSettings', () => {
  it('is off by default, with asymmetric algorithms and 30 s of leeway', () => {
    expect(loadConfig(AuthSettings, {})).toEqual({
      AUTH_ISSUER: '',
      AUTH_AUDIENCE: '',
      AUTH_JWKS_URL: '',
      AUTH_ALGORITHMS: 'RS256,PS256,ES256,EdDSA',
      AUTH_CLOCK_TOLERANCE_S: 30,
      AUTH_JWKS_COOLDOWN_MS: 30_000,
    });
  });

  it('turns auth on with an issuer and an audience', () => {
    const config = loadConfig(AuthSettings, {
      AUTH_ISSUER: 'https://id.example.com/realms/shop',
      AUTH_AUDIENCE: 'users',
    });
    expect(config).toMatchObject({
      AUTH_ISSUER: 'https://id.example.com/realms/shop',
      AUTH_AUDIENCE: 'users',
    });
  });

  it('refuses AUTH_ISSUER without AUTH_AUDIENCE, saying so', () => {
    expect(() =>
      loadConfig(AuthSettings, { AUTH_ISSUER: 'https://id.example.com' }),
    ).toThrow(/AUTH_AUDIENCE must be set when AUTH_ISSUER is set/);
  });

  it.each(['HS256', 'none', 'RS256,HS512', 'rs256'])(
    'refuses AUTH_ALGORITHMS=%p: asymmetric algorithms only',
    (algorithms) => {
      expect(() =>
        loadConfig(AuthSettings, { AUTH_ALGORITHMS: algorithms }),
      ).toThrow(/AUTH_ALGORITHMS must be a comma-separated list of RS256/);
    },
  );
});
