import type { InstrumentationBase } from '@opentelemetry/instrumentation';

/**
 * The modules that OpenTelemetry's Express and NestJS instrumentations patch, as the app's bundle
 * holds them. The instrumentations wait for Node's `require` to load these from node_modules; in
 * the bundle Node never does, so each instrumentation's patches are applied here to the copies the
 * app runs, once the SDK has started and before the app is created.
 */
export function instrumentBundledModules(
  instrumentations: InstrumentationBase[],
): void {
  const modules: Record<string, unknown> = {
    express: require('express'),
    '@nestjs/core/nest-factory.js': require('@nestjs/core/nest-factory.js'),
    '@nestjs/core/router/router-execution-context.js': require('@nestjs/core/router/router-execution-context.js'),
  };
  const versions: Record<string, string> = {
    express: (require('express/package.json') as { version: string }).version,
    '@nestjs/core': (
      require('@nestjs/core/package.json') as { version: string }
    ).version,
  };
  for (const instrumentation of instrumentations) {
    for (const definition of instrumentation.getModuleDefinitions()) {
      const version = versions[definition.name];
      const exports = modules[definition.name];
      if (exports && definition.patch) {
        definition.moduleExports = exports;
        definition.moduleVersion = version;
        definition.patch(exports, version);
      }
      for (const file of definition.files) {
        const fileExports = modules[file.name];
        if (!fileExports) continue;
        file.moduleExports = fileExports;
        file.patch(fileExports, version);
      }
    }
  }
}
