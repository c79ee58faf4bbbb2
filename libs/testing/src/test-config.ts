import type { ServiceConfig } from '@app/common';
import { validateSync } from 'class-validator';

/**
 * An app's config with its defaults, quiet logs, and what the test overrides; checked by the same
 * rules as the environment, so a test cannot run a config production would refuse.
 */
export function testConfig<T extends ServiceConfig>(
  schema: new () => T,
  overrides: Partial<T> = {},
): T {
  const config = Object.assign(
    new schema(),
    { LOG_LEVEL: 'silent' },
    overrides,
  );
  const errors = validateSync(config);
  if (errors.length > 0) {
    throw new Error(
      `Invalid test config: ${errors.map((e) => Object.values(e.constraints ?? {}).join(', ')).join('; ')}`,
    );
  }
  return config;
}
