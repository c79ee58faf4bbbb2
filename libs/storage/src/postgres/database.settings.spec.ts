import { ConfigError, loadConfig } from '@app/config';
import { DatabaseSettings } from './database.settings';

describe('DatabaseSettings', () => {
  it('keeps data in memory by default, with a pool of 10 and 2 s / 5 s timeouts', () => {
    expect(loadConfig(DatabaseSettings, {})).toEqual({
      DATABASE_URL: '',
      DATABASE_MIGRATION_URL: '',
      DATABASE_POOLER: 'none',
      DATABASE_POOL_MAX: 10,
      DATABASE_CONNECT_TIMEOUT_MS: 2000,
      DATABASE_STATEMENT_TIMEOUT_MS: 5000,
      DATABASE_MIGRATE_AT_START: 'true',
    });
  });

  it.each([
    'postgres://app:secret@db.internal:5432/users',
    'postgresql://app@localhost/orders?sslmode=require',
  ])('accepts DATABASE_URL=%p', (url) => {
    expect(
      loadConfig(DatabaseSettings, { DATABASE_URL: url }).DATABASE_URL,
    ).toBe(url);
  });

  it('refuses a DATABASE_URL that is not PostgreSQL, without showing its password', () => {
    const attempt = () =>
      loadConfig(DatabaseSettings, {
        DATABASE_URL: 'mysql://app:hunter2-secret@db/users',
      });
    expect(attempt).toThrow(/DATABASE_URL="mysql:\/\/app:\*\*\*@db\/users"/);
    expect(attempt).not.toThrow(/hunter2-secret/);
  });

  it.each([
    ['DATABASE_POOL_MAX', '0'],
    ['DATABASE_STATEMENT_TIMEOUT_MS', '5s'],
    ['DATABASE_MIGRATE_AT_START', 'yes'],
    ['DATABASE_MIGRATION_URL', 'mysql://app@db/users'],
    ['DATABASE_POOLER', 'session'],
  ])('refuses %s=%p', (name, value) => {
    expect(() => loadConfig(DatabaseSettings, { [name]: value })).toThrow(
      ConfigError,
    );
  });
});
