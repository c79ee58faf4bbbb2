import type { Config } from 'jest';
import config from './jest.config.ts';

/**
 * The suites StrykerJS runs against each mutant (stryker.config.mjs): the unit specs and each
 * service's e2e suites in memory, all in one process. Not the `*-e2e-postgres` projects (each
 * suite again on a database) nor `cross-service-e2e` (built apps as processes): a mutant is run
 * hundreds of times, and those add minutes each time for little the in-memory runs miss.
 */
const kept = new Set(['unit', 'users-e2e', 'orders-e2e']);

type Project = Exclude<NonNullable<Config['projects']>[number], string>;

const projects = (config.projects ?? []).filter(
  (project): project is Project =>
    typeof project !== 'string' && kept.has(String(project.displayName)),
);

const mutation: Config = {
  projects: projects.map((project) => ({
    ...project,
    // Stryker swaps its own environment in for per-test coverage, but only at the top level of
    // the configuration, which jest does not pass down to projects; each project names it here.
    testEnvironment: '@stryker-mutator/jest-runner/jest-env/node',
  })),
};

export default mutation;
