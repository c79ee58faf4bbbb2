import { configErrors } from '@app/config';
import type { ServiceConfig } from '@app/platform';
import { reserveTestDatabaseUrl } from '../stand-ins/database';

/**
 * An app's config with its defaults, quiet logs, the store of the test project (in memory, or a
 * fresh PostgreSQL database), and what the test overrides; checked by the same
 * rules as the environment, so a test cannot run a config production would refuse.
 */
export function testConfig<T extends ServiceConfig>(
  schema: new () => T,
  overrides: Partial<T> = {},
): T {
  const config = Object.assign(
    new schema(),
    { LOG_LEVEL: 'silent' },
    // The *-e2e-postgres projects run the same suites with each app on a fresh database.
    process.env.E2E_STORE === 'postgres'
      ? { DATABASE_URL: reserveTestDatabaseUrl() }
      : {},
    overrides,
  );
  const errors = configErrors(schema, config);
  if (errors.length > 0)
    throw new Error(`Invalid test config: ${errors.join('; ')}`);
  return config;
}
