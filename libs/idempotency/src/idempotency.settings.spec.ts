import { ConfigError, loadConfig } from '@app/config';
import { IdempotencySettings } from './idempotency.settings';

describe('IdempotencySettings', () => {
  it('remembers 10 000 keys for 24 h, leased for a minute, by default', () => {
    expect(loadConfig(IdempotencySettings, {})).toEqual({
      IDEMPOTENCY_TTL_MS: 86_400_000,
      IDEMPOTENCY_MAX_KEYS: 10_000,
      IDEMPOTENCY_LEASE_MS: 60_000,
    });
  });

  it.each([
    ['IDEMPOTENCY_MAX_KEYS', '0'],
    ['IDEMPOTENCY_TTL_MS', '1d'],
    ['IDEMPOTENCY_LEASE_MS', '999'],
  ])('refuses %s=%p', (name, value) => {
    expect(() => loadConfig(IdempotencySettings, { [name]: value })).toThrow(
      ConfigError,
    );
  });
});
