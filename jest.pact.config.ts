import type { Config } from 'jest';
import { base } from './jest.config.ts';

/**
 * The consumer-driven contract of the hop, run before the main suites and in this order (see the
 * `test:pact` script): the consumers write their pacts, then each provider is verified against them.
 */
// Pact's own usage report: off, here and in the workers that inherit this environment.
process.env.PACT_DO_NOT_TRACK = 'true';

const config: Config = {
  projects: [
    {
      ...base,
      // Each service's pacts with the services it calls: `<provider>.consumer.pact-spec.ts`.
      displayName: 'pact-consumer',
      testMatch: ['<rootDir>/apps/*/test/**/*.consumer.pact-spec.ts'],
    },
    {
      ...base,
      // Each service verified against its consumers' pacts: `<consumer>.provider.pact-spec.ts`.
      displayName: 'pact-provider',
      testMatch: ['<rootDir>/apps/*/test/**/*.provider.pact-spec.ts'],
    },
  ],
};

export default config;
