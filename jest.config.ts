import type { Config } from 'jest';
import { pathsToModuleNameMapper } from 'ts-jest';
import ts from 'typescript';
import { services } from './scripts/services.cjs';

// The path aliases (`@app/platform`, `@app/testing`, ...) live in tsconfig.json and are read from
// there, so jest resolves them exactly as the build does.
const { config: tsconfig } = ts.readConfigFile(
  './tsconfig.json',
  ts.sys.readFile,
);

export const base: Config = {
  rootDir: '.',
  moduleFileExtensions: ['js', 'json', 'ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  moduleNameMapper: pathsToModuleNameMapper(tsconfig.compilerOptions.paths, {
    prefix: '<rootDir>/',
  }),
  testEnvironment: 'node',
};

/** The e2e projects: real HTTP on loopback, stand-in servers, spawned processes. */
const e2e: Config = {
  ...base,
  setupFilesAfterEnv: ['<rootDir>/test/jest.setup.ts'],
};

/** The same e2e suites again, each app booted on a fresh PostgreSQL database. */
const onPostgres: Config = {
  ...e2e,
  setupFiles: ['<rootDir>/test/postgres-store.setup.ts'],
};

const config: Config = {
  // A throwaway PostgreSQL cluster for the suites that run on a real database.
  globalSetup: '<rootDir>/test/postgres.global-setup.ts',
  globalTeardown: '<rootDir>/test/postgres.global-teardown.ts',
  collectCoverageFrom: ['apps/*/src/**/*.ts', 'libs/*/src/**/*.ts'],
  coverageDirectory: './coverage',
  projects: [
    {
      ...base,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,libs}/**/src/**/*.spec.ts'],
      // The stores' specs create a PostgreSQL database each: a busy machine must not fail them
      // on jest's 5 s default.
      testTimeout: 30_000,
    },
    // Per service: its e2e suites in memory, then again on PostgreSQL.
    ...services().flatMap(({ name, root }) => [
      {
        ...e2e,
        displayName: `${name}-e2e`,
        testMatch: [`<rootDir>/${root}/test/**/*.e2e-spec.ts`],
      },
      {
        ...onPostgres,
        displayName: `${name}-e2e-postgres`,
        testMatch: [`<rootDir>/${root}/test/**/*.e2e-spec.ts`],
      },
    ]),
    {
      ...e2e,
      displayName: 'cross-service-e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
    },
  ],
};

export default config;
