import { ConfigError, loadConfig } from '@app/config';
import { PlatformSettings } from './platform.settings';
import { ServiceConfig } from './service-config';

describe('PlatformSettings', () => {
  it('has safe defaults: info logs, 5 s drain, no CORS, no rate limit', () => {
    expect(loadConfig(PlatformSettings, {})).toEqual({
      LOG_LEVEL: 'info',
      NODE_ENV: 'development',
      SHUTDOWN_DRAIN_MS: 5000,
      SHUTDOWN_TIMEOUT_MS: 10_000,
      CORS_ORIGINS: '',
      RATE_LIMIT_PER_MINUTE: 0,
    });
  });

  it.each([
    'https://app.example.com',
    'https://a.example.com,http://localhost:3000',
  ])('accepts CORS_ORIGINS=%p', (origins) => {
    expect(
      loadConfig(PlatformSettings, { CORS_ORIGINS: origins }).CORS_ORIGINS,
    ).toBe(origins);
  });

  it.each([
    '*',
    'app.example.com',
    'https://app.example.com/',
    'https://a.com, https://b.com',
  ])('refuses CORS_ORIGINS=%p', (origins) => {
    expect(() =>
      loadConfig(PlatformSettings, { CORS_ORIGINS: origins }),
    ).toThrow(ConfigError);
  });

  it.each([
    ['LOG_LEVEL', 'verbose'],
    ['RATE_LIMIT_PER_MINUTE', '-1'],
    ['SHUTDOWN_DRAIN_MS', '5s'],
  ])('refuses %s=%p', (name, value) => {
    expect(() => loadConfig(PlatformSettings, { [name]: value })).toThrow(
      ConfigError,
    );
  });
});

describe('ServiceConfig', () => {
  it("holds every lib's variables, with their defaults: in memory, auth off", () => {
    expect(loadConfig(ServiceConfig, {})).toMatchObject({
      LOG_LEVEL: 'info',
      DATABASE_URL: '',
      AUTH_ISSUER: '',
      IDEMPOTENCY_TTL_MS: 86_400_000,
    });
  });

  it("names every wrong variable of every lib in one message, each by its lib's rule, passwords hidden", () => {
    expect(() =>
      loadConfig(ServiceConfig, {
        LOG_LEVEL: 'verbose',
        AUTH_ISSUER: 'https://id.example.com',
        DATABASE_URL: 'mysql://app:hunter2@db/users',
        IDEMPOTENCY_MAX_KEYS: '0',
      }),
    ).toThrow(
      'Invalid configuration:\n' +
        '  LOG_LEVEL="verbose": LOG_LEVEL must be one of the following values: fatal, error, warn, info, debug, trace, silent\n' +
        '  AUTH_AUDIENCE=undefined: AUTH_AUDIENCE must be set when AUTH_ISSUER is set\n' +
        '  DATABASE_URL="mysql://app:***@db/users": DATABASE_URL must be empty or a URL like postgres://user:password@host:5432/database\n' +
        '  IDEMPOTENCY_MAX_KEYS="0": IDEMPOTENCY_MAX_KEYS must not be less than 1',
    );
  });
});
