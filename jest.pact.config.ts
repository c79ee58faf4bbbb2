import type { Config } from 'jest';
import { base } from './jest.config.ts';

/**
 * The consumer-driven contract of the hop, run before the main suites and in this order (see the
 * `test:pact` script): orders writes the pact, then the users app is verified against it.
 */
// Pact's own usage report: off, here and in the workers that inherit this environment.
process.env.PACT_DO_NOT_TRACK = 'true';

const config: Config = {
  projects: [
    {
      ...base,
      displayName: 'pact-consumer',
      testMatch: ['<rootDir>/apps/orders/test/**/*.pact-spec.ts'],
    },
    {
      ...base,
      displayName: 'pact-provider',
      testMatch: ['<rootDir>/apps/users/test/**/*.pact-spec.ts'],
    },
  ],
};

export default config;
