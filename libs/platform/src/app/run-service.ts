import { loadConfigOrExit } from '@app/config';
import { migrateAndExit } from '@app/storage';
import { stopTracing } from '@app/telemetry';
import type { ServiceConfig } from '../config/service-config';
import { createHttpApp, runHttpApp } from './http-app';
import type { ServiceDefinition } from './service-definition';

/**
 * A service's `main.ts`: reads and checks its config (exit 1 naming every wrong variable), then
 * either applies the migrations and exits (`main.js migrate`), or serves until SIGTERM/SIGINT.
 */
export async function runService<C extends ServiceConfig>(
  service: ServiceDefinition<C>,
): Promise<void> {
  const config = loadConfigOrExit(service.config);
  if (process.argv[2] === 'migrate')
    return migrateAndExit(service.name, config, service.migrations);
  const app = await createHttpApp(service.module(config));
  await runHttpApp(app, portOf(service, config), stopTracing);
}

/** The port the service listens on, from the variable its definition names. */
export function portOf<C extends ServiceConfig>(
  service: ServiceDefinition<C>,
  config: C,
): number {
  const port: unknown = config[service.port];
  if (typeof port !== 'number')
    throw new Error(`${service.port} is not a port number`);
  return port;
}
