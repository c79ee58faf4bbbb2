import type { Config } from 'jest';
import { base } from './jest.config.ts';

/**
 * npm run test:image (test/image/): first the Dockerfile's build stage replayed without an engine,
 * which names a file the build lacks within seconds; then the images built with podman and run as
 * containers and as `podman kube play` of deploy/k8s. Not part of npm test: it needs podman, and
 * takes minutes.
 */
const config: Config = {
  projects: [
    {
      ...base,
      displayName: 'build-stage',
      testMatch: ['<rootDir>/test/image/build-stage.e2e-spec.ts'],
    },
    {
      ...base,
      displayName: 'image',
      testMatch: ['<rootDir>/test/image/**/*.image-spec.ts'],
    },
  ],
};

export default config;
