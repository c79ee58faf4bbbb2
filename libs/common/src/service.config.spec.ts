import { ConfigError, loadConfig } from './config';
import { ServiceConfig } from './service.config';

describe('ServiceConfig', () => {
  it('has safe defaults: info logs, 5 s drain, no CORS, no rate limit, keys kept 24 h, in memory, auth off', () => {
    expect(loadConfig(ServiceConfig, {})).toEqual({
      LOG_LEVEL: 'info',
      NODE_ENV: 'development',
      SHUTDOWN_DRAIN_MS: 5000,
      SHUTDOWN_TIMEOUT_MS: 10_000,
      IDEMPOTENCY_TTL_MS: 86_400_000,
      IDEMPOTENCY_MAX_KEYS: 10_000,
      CORS_ORIGINS: '',
      RATE_LIMIT_PER_MINUTE: 0,
      IDEMPOTENCY_LEASE_MS: 60_000,
      DATABASE_URL: '',
      DATABASE_POOL_MAX: 10,
      DATABASE_CONNECT_TIMEOUT_MS: 2000,
      DATABASE_STATEMENT_TIMEOUT_MS: 5000,
      DATABASE_MIGRATE_AT_START: 'true',
      AUTH_ISSUER: '',
      AUTH_AUDIENCE: '',
      AUTH_JWKS_URL: '',
      AUTH_ALGORITHMS: 'RS256,PS256,ES256,EdDSA',
      AUTH_CLOCK_TOLERANCE_S: 30,
      AUTH_JWKS_COOLDOWN_MS: 30_000,
    });
  });

  it('turns auth on with an issuer and an audience', () => {
    const config = loadConfig(ServiceConfig, {
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
      loadConfig(ServiceConfig, { AUTH_ISSUER: 'https://id.example.com' }),
    ).toThrow(/AUTH_AUDIENCE must be set when AUTH_ISSUER is set/);
  });

  it.each(['HS256', 'none', 'RS256,HS512', 'rs256'])(
    'refuses AUTH_ALGORITHMS=%p: asymmetric algorithms only',
    (algorithms) => {
      expect(() =>
        loadConfig(ServiceConfig, { AUTH_ALGORITHMS: algorithms }),
      ).toThrow(/AUTH_ALGORITHMS must be a comma-separated list of RS256/);
    },
  );

  it.each([
    'postgres://app:secret@db.internal:5432/users',
    'postgresql://app@localhost/orders?sslmode=require',
  ])('accepts DATABASE_URL=%p', (url) => {
    expect(loadConfig(ServiceConfig, { DATABASE_URL: url }).DATABASE_URL).toBe(
      url,
    );
  });

  it('refuses a DATABASE_URL that is not PostgreSQL, without showing its password', () => {
    const attempt = () =>
      loadConfig(ServiceConfig, {
        DATABASE_URL: 'mysql://app:hunter2-secret@db/users',
      });
    expect(attempt).toThrow(/DATABASE_URL="mysql:\/\/app:\*\*\*@db\/users"/);
    expect(attempt).not.toThrow(/hunter2-secret/);
  });

  it.each([
    'https://app.example.com',
    'https://a.example.com,http://localhost:3000',
  ])('accepts CORS_ORIGINS=%p', (origins) => {
    expect(
      loadConfig(ServiceConfig, { CORS_ORIGINS: origins }).CORS_ORIGINS,
    ).toBe(origins);
  });

  it.each([
    '*',
    'app.example.com',
    'https://app.example.com/',
    'https://a.com, https://b.com',
  ])('refuses CORS_ORIGINS=%p', (origins) => {
    expect(() => loadConfig(ServiceConfig, { CORS_ORIGINS: origins })).toThrow(
      ConfigError,
    );
  });

  it.each([
    ['LOG_LEVEL', 'verbose'],
    ['RATE_LIMIT_PER_MINUTE', '-1'],
    ['SHUTDOWN_DRAIN_MS', '5s'],
    ['IDEMPOTENCY_MAX_KEYS', '0'],
    ['DATABASE_POOL_MAX', '0'],
    ['DATABASE_STATEMENT_TIMEOUT_MS', '5s'],
    ['DATABASE_MIGRATE_AT_START', 'yes'],
  ])('refuses %s=%p', (name, value) => {
    expect(() => loadConfig(ServiceConfig, { [name]: value })).toThrow(
      ConfigError,
    );
  });
});
