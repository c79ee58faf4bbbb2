import { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { Test, TestingModuleBuilder } from '@nestjs/testing';
import { configureHttpApp, httpAppOptions } from '@app/common';
import type { AddressInfo } from 'node:net';

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
  const app = configureHttpApp(moduleRef.createNestApplication(httpAppOptions));
  await app.init();
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
