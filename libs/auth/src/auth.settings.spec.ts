import { loadConfig } from '@app/config';
import { AuthSettings, listSetting } from './auth.settings';

describe('AuthSettings', () => {
  it('is off by default, with asymmetric algorithms and 30 s of leeway', () => {
    expect(loadConfig(AuthSettings, {})).toEqual({
      AUTH_ISSUER: '',
      AUTH_AUDIENCE: '',
      AUTH_JWKS_URL: '',
      AUTH_ALGORITHMS: 'RS256,PS256,ES256,EdDSA',
      AUTH_SCOPE_CLAIMS: 'scope,scp',
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

  it.each(['HS256', 'none', 'RS256,HS512', 'rs256', 'RS256,', 'RS256,,ES256'])(
    'refuses AUTH_ALGORITHMS=%p: asymmetric algorithms only',
    (algorithms) => {
      expect(() =>
        loadConfig(AuthSettings, { AUTH_ALGORITHMS: algorithms }),
      ).toThrow(/AUTH_ALGORITHMS must be a comma-separated list of RS256/);
    },
  );

  it('tolerates spaces around the algorithms, as the verifier reads them', () => {
    const config = loadConfig(AuthSettings, {
      AUTH_ALGORITHMS: ' RS256, ES256 ,EdDSA',
    });
    expect(listSetting(config.AUTH_ALGORITHMS)).toEqual([
      'RS256',
      'ES256',
      'EdDSA',
    ]);
  });

  it.each([
    ['scp,roles', ['scp', 'roles']],
    ['scope, scp, roles', ['scope', 'scp', 'roles']],
    ['https://example.com/roles', ['https://example.com/roles']],
  ])('reads AUTH_SCOPE_CLAIMS=%p as the claims %p', (value, claims) => {
    const config = loadConfig(AuthSettings, { AUTH_SCOPE_CLAIMS: value });
    expect(listSetting(config.AUTH_SCOPE_CLAIMS)).toEqual(claims);
  });

  it.each(['scope,', ',scp', 'scope,,scp', 'scope scp', 'scöpe', ' , '])(
    'refuses AUTH_SCOPE_CLAIMS=%p: claim names, none empty',
    (claims) => {
      expect(() =>
        loadConfig(AuthSettings, { AUTH_SCOPE_CLAIMS: claims }),
      ).toThrow(
        /AUTH_SCOPE_CLAIMS must be a comma-separated list of claim names, none empty/,
      );
    },
  );
});
