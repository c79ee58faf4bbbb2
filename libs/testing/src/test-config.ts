import type { ServiceConfig } from '@app/common';

/** An app's config with its defaults, quiet logs, and what the test overrides. */
export function testConfig<T extends ServiceConfig>(
  schema: new () => T,
  overrides: Partial<T> = {},
): T {
  return Object.assign(new schema(), { LOG_LEVEL: 'silent' }, overrides);
}
