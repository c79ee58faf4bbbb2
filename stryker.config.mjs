// @ts-check
// Mutation testing of the request path: `npm run test:mutation` (CONTRIBUTING.md, "Mutation
// testing"). Scope a run while working: `npm run test:mutation -- --mutate libs/auth/src/auth.guard.ts`.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// The unit project holds specs that run on PostgreSQL (the stores, the idempotency store, the
// pool's errors). jest's global setup would start a cluster on every mutant's run; one cluster
// for the whole run instead, unless TEST_DATABASE_URL names a server. Stryker's test runners are
// child processes started after this file is read, so they inherit the variable.
if (!process.env.TEST_DATABASE_URL) {
  const { startCluster } = require('./scripts/postgres-cluster.cjs');
  // Unreferenced: Stryker exits when its work is done, and the server must not hold it.
  const cluster = await startCluster({ unref: true });
  process.env.TEST_DATABASE_URL = cluster.url;
  // 'exit' allows only synchronous work: a fast shutdown of the postmaster (whose pid is the first
  // line of postmaster.pid), waited for, then its throwaway directory removed.
  process.once('exit', () => {
    execFileSync('sh', [
      '-c',
      'pid=$(head -1 "$1/postmaster.pid" 2>/dev/null); if [ -n "$pid" ] && kill -INT "$pid"; then while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done; fi; rm -rf "$1"',
      'stop-cluster',
      cluster.dataDir,
    ]);
  });
}

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  // The request path: what every call meets, from the token to the store's errors.
  mutate: [
    'libs/auth/src/auth.guard.ts',
    'libs/auth/src/token-verifier.ts',
    'libs/auth/src/principal.ts',
    'libs/auth/src/route-declarations.ts',
    'apps/orders/src/users-client/users.client.ts',
    'apps/orders/src/users-client/users.call.ts',
    'apps/orders/src/users-client/users.cache.ts',
    'apps/orders/src/users-client/users-answer.handler.ts',
    'apps/orders/src/users-client/users.transport.ts',
    'apps/orders/src/users-client/users.problems.ts',
    'apps/orders/src/users-client/users-call.policy.ts',
    'apps/orders/src/orders/orders.service.ts',
    'apps/orders/src/orders/orders.controller.ts',
    'apps/users/src/users/users.service.ts',
    'apps/users/src/users/users.controller.ts',
    'libs/idempotency/src/idempotency.interceptor.ts',
    'libs/idempotency/src/in-memory-idempotency.store.ts',
    'libs/idempotency/src/postgres-idempotency.store.ts',
    'libs/platform/src/errors/problem-details.filter.ts',
    'libs/storage/src/postgres/errors.ts',
  ],
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    configFile: 'jest.mutation.config.ts',
    // Only the specs that import the mutated file, directly or not, run for its mutants.
    enableFindRelatedTests: true,
  },
  // The project's jest runs need it (npm test passes it too).
  testRunnerNodeArgs: ['--experimental-vm-modules'],
  // Each mutant runs only the tests that reached it in the first, instrumented run.
  coverageAnalysis: 'perTest',
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  // Shared machines: one test runner and one checker; raise it on your own (--concurrency 4).
  concurrency: 1,
  // The e2e suites wait on real servers; a mutant that makes a call hang is a timeout (killed).
  // Generous: on a machine busy with other work, runs were three times slower than the first,
  // and Stryker's default (1.5 times it, plus 5 s) counted failing mutants as timeouts, hiding
  // survivors among them.
  timeoutFactor: 3,
  timeoutMS: 20_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  // The sandbox is a copy of the tree: not the builds, the coverage or the pacts.
  ignorePatterns: ['/dist', '/coverage', '/pacts', '/.data', '/bench'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};

export default config;
