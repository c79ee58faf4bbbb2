import { NestInstrumentation } from '@opentelemetry/instrumentation-nestjs-core';
import { createRequire } from 'node:module';

const NEST_12 = ['>=4.0.0 <13'];

interface ModuleDefinition {
  supportedVersions: string[];
  files: { supportedVersions: string[] }[];
}

/**
 * The published NestJS instrumentation stops at `<12`. Its upstream fix (opentelemetry-js-contrib
 * #3733, not yet released) widens the range and loads the two patched files through `require`,
 * since NestJS 12 is ESM and its own imports never pass the require hook. This does the same
 * until that release lands; remove it then.
 */
export class Nest12Instrumentation extends NestInstrumentation {
  override init() {
    const definition = super.init() as unknown as ModuleDefinition;
    definition.supportedVersions = NEST_12;
    for (const file of definition.files) file.supportedVersions = NEST_12;
    return definition as unknown as ReturnType<NestInstrumentation['init']>;
  }
}

/**
 * Modules the instrumentations patch on `require`, but which our ESM dependencies load with
 * `import`: required here once, after the SDK started, so the shared module objects are patched
 * before `@nestjs/platform-express` and `@nestjs/core` use them.
 */
export function requireInstrumentedModules(): void {
  const load = createRequire(__filename);
  for (const id of [
    'express',
    '@nestjs/core',
    '@nestjs/core/nest-factory.js',
    '@nestjs/core/router/router-execution-context.js',
  ]) {
    load(id);
  }
}
