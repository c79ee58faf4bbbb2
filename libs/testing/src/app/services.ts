import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository's root folder. */
export const ROOT = join(__dirname, '..', '..', '..', '..');

interface NestCliProject {
  type: 'application' | 'library';
  root: string;
  sourceRoot: string;
}

/**
 * The services of this repository: the applications of `nest-cli.json`, the one list of them.
 * Scripts, jest's projects and the deployment checks read it, so a new service is its folder and
 * its entry there (see CONTRIBUTING.md).
 */
export function services(): {
  name: string;
  root: string;
  sourceRoot: string;
}[] {
  const { projects } = JSON.parse(
    readFileSync(join(ROOT, 'nest-cli.json'), 'utf8'),
  ) as { projects: Record<string, NestCliProject> };
  return Object.entries(projects)
    .filter(([, project]) => project.type === 'application')
    .map(([name, { root, sourceRoot }]) => ({ name, root, sourceRoot }));
}

export function serviceNames(): string[] {
  return services().map(({ name }) => name);
}
