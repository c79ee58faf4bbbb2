import { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { Test, TestingModuleBuilder } from '@nestjs/testing';
import { configureHttpApp, httpAppOptions } from '@app/platform';
import { Database, DatabaseSettings } from '@app/storage';
import type { AddressInfo } from 'node:net';
import { recordResponses } from '../contract/contract-check';
import {
  createReservedDatabase,
  isReservedTestDatabase,
} from '../stand-ins/database';

/**
 * Boots a module the way `main.ts` does (same options, same setup), without listening. `adjust`
 * may override providers, to put a fault where no request could.
 */
export async function createTestApp(
  module: Type | DynamicModule,
  adjust: (builder: TestingModuleBuilder) => TestingModuleBuilder = (builder) =>
    builder,
): Promise<INestApplication> {
  const moduleRef = await adjust(
    Test.createTestingModule({ imports: [module] }),
  ).compile();
  const { DATABASE_URL } = moduleRef.get(DatabaseSettings);
  const drop =
    DATABASE_URL && isReservedTestDatabase(DATABASE_URL)
      ? await createReservedDatabase(DATABASE_URL)
      : undefined;
  const app = configureHttpApp(moduleRef.createNestApplication(httpAppOptions));
  await app.init();
  await recordResponses(app);
  // Migrated before the first request, as a deployed app is once it reports ready.
  if (DATABASE_URL) await app.get(Database).start();
  if (drop) {
    const close = app.close.bind(app);
    app.close = async () => {
      await close();
      await drop();
    };
  }
  return app;
}

/** Boots a module and listens on an ephemeral loopback port, for calls over real HTTP. */
export async function startTestApp(
  module: Type | DynamicModule,
): Promise<{ app: INestApplication; url: string }> {
  const app = await createTestApp(module);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}` };
}
