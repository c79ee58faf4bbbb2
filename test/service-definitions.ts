import type { ServiceDefinition } from '@app/platform';
import { ROOT, services } from '@app/testing';
import { join } from 'node:path';

function isServiceDefinition(value: unknown): value is ServiceDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    'name' in value &&
    'config' in value &&
    'port' in value &&
    'module' in value
  );
}

/**
 * Every service of nest-cli.json, as its `app.module.ts` defines it (its `service` export): what
 * the cross-service tests check the deployment files against, whatever services there are.
 */
export function serviceDefinitions(): ServiceDefinition[] {
  return services().map(({ name, sourceRoot }) => {
    const { service } = require(join(ROOT, sourceRoot, 'app.module')) as {
      service?: unknown;
    };
    if (!isServiceDefinition(service) || service.name !== name)
      throw new Error(
        `${sourceRoot}/app.module.ts must export \`service\`, the ServiceDefinition of ${name}`,
      );
    return service;
  });
}
