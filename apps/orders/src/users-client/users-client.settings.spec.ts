import { ConfigError, loadConfig } from '@app/config';
import { OrdersConfig } from '../orders.config';

describe('OrdersConfig', () => {
  it('defaults to a 2 s deadline, 1 s attempts, 2 retries within a 20% budget, a breaker at 5 failures for 10 s', () => {
    expect(loadConfig(OrdersConfig, {})).toMatchObject({
      USERS_SERVICE_URL: 'http://localhost:5001',
      USERS_SERVICE_TIMEOUT_MS: 2000,
      USERS_SERVICE_ATTEMPT_TIMEOUT_MS: 1000,
      USERS_SERVICE_RETRIES: 2,
      USERS_SERVICE_RETRY_BUDGET_PERCENT: 20,
      USERS_SERVICE_BREAKER_THRESHOLD: 5,
      USERS_SERVICE_BREAKER_COOLDOWN_MS: 10_000,
      USERS_SERVICE_MAX_CONCURRENCY: 50,
    });
  });

  it('refuses an attempt timeout above the deadline', () => {
    expect(() =>
      loadConfig(OrdersConfig, {
        USERS_SERVICE_TIMEOUT_MS: '500',
        USERS_SERVICE_ATTEMPT_TIMEOUT_MS: '800',
      }),
    ).toThrow(
      'USERS_SERVICE_ATTEMPT_TIMEOUT_MS must not be greater than USERS_SERVICE_TIMEOUT_MS',
    );
  });

  it.each([
    ['USERS_SERVICE_RETRIES', '3'],
    ['USERS_SERVICE_RETRY_BUDGET_PERCENT', '101'],
    ['USERS_SERVICE_RETRY_BUDGET_PERCENT', '-1'],
    ['USERS_SERVICE_RETRY_BUDGET_PERCENT', '12.5'],
    ['USERS_SERVICE_BREAKER_THRESHOLD', '0'],
    ['USERS_SERVICE_MAX_CONCURRENCY', '0'],
    ['USERS_SERVICE_URL', 'localhost:5001'],
  ])('refuses %s=%p', (name, value) => {
    expect(() => loadConfig(OrdersConfig, { [name]: value })).toThrow(
      ConfigError,
    );
  });

  it('takes its service identity towards users with all three settings', () => {
    expect(
      loadConfig(OrdersConfig, {
        USERS_SERVICE_TOKEN_URL: 'https://id.example.com/token',
        USERS_SERVICE_CLIENT_ID: 'orders',
        USERS_SERVICE_CLIENT_SECRET: 's3cret',
      }),
    ).toMatchObject({ USERS_SERVICE_CLIENT_ID: 'orders' });
  });

  it.each([
    [
      { USERS_SERVICE_TOKEN_URL: 'https://id.example.com/token' },
      ['USERS_SERVICE_CLIENT_ID', 'USERS_SERVICE_CLIENT_SECRET'],
    ],
    [
      {
        USERS_SERVICE_CLIENT_ID: 'orders',
        USERS_SERVICE_CLIENT_SECRET: 's3cret',
      },
      ['USERS_SERVICE_TOKEN_URL'],
    ],
  ])(
    'refuses to start half-configured (%p), naming what is missing',
    (env, missing) => {
      const attempt = () => loadConfig(OrdersConfig, env);
      expect(attempt).toThrow(ConfigError);
      for (const name of missing)
        expect(attempt).toThrow(
          `${name}=undefined: ${name} must be set: USERS_SERVICE_TOKEN_URL, USERS_SERVICE_CLIENT_ID, USERS_SERVICE_CLIENT_SECRET go together`,
        );
      expect(attempt).not.toThrow(/s3cret/);
    },
  );

  it.each([
    'https://users.example.com',
    'https://id.example.com/api?v=2',
    'urn:example:users',
  ])('takes USERS_SERVICE_TOKEN_RESOURCE=%p: an absolute URI', (resource) => {
    expect(
      loadConfig(OrdersConfig, { USERS_SERVICE_TOKEN_RESOURCE: resource }),
    ).toMatchObject({ USERS_SERVICE_TOKEN_RESOURCE: resource });
  });

  it.each([
    'users',
    '/users',
    'https://users.example.com#api',
    'https://users example',
  ])(
    'refuses USERS_SERVICE_TOKEN_RESOURCE=%p: RFC 8707 wants an absolute URI without a fragment',
    (resource) => {
      expect(() =>
        loadConfig(OrdersConfig, { USERS_SERVICE_TOKEN_RESOURCE: resource }),
      ).toThrow(
        `USERS_SERVICE_TOKEN_RESOURCE=${JSON.stringify(resource)}: USERS_SERVICE_TOKEN_RESOURCE must be empty or an absolute URI without a fragment, like https://users.example.com`,
      );
    },
  );
});
