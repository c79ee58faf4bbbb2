import { ConfigError, loadConfig } from './config';
import { ServiceConfig } from './service.config';

describe('ServiceConfig', () => {
  it('has safe defaults: info logs, 5 s drain, no CORS, no rate limit, keys kept 24 h', () => {
    expect(loadConfig(ServiceConfig, {})).toEqual({
      LOG_LEVEL: 'info',
      NODE_ENV: 'development',
      SHUTDOWN_DRAIN_MS: 5000,
      SHUTDOWN_TIMEOUT_MS: 10_000,
      IDEMPOTENCY_TTL_MS: 86_400_000,
      IDEMPOTENCY_MAX_KEYS: 10_000,
      CORS_ORIGINS: '',
      RATE_LIMIT_PER_MINUTE: 0,
    });
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
  ])('refuses %s=%p', (name, value) => {
    expect(() => loadConfig(ServiceConfig, { [name]: value })).toThrow(
      ConfigError,
    );
  });
});
