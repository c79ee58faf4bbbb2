import { ROOT } from '@app/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runScript } from './operating';
import { serviceDefinitions } from './service-definitions';

/**
 * docs/configuration.md is written by scripts/config-reference.cjs (`npm run docs:config`) from
 * the settings classes. It must be what the script writes now (not stale), and, checked against
 * the apps' config classes themselves rather than the script's reading of them, name every
 * variable every service reads (nothing missing).
 */
const REFERENCE = 'docs/configuration.md';
const committed = () => readFileSync(join(ROOT, REFERENCE), 'utf8');

describe('the configuration reference (docs/configuration.md)', () => {
  it('is what `npm run docs:config` writes from the settings classes now', () => {
    // A difference here: run `npm run docs:config` and commit docs/configuration.md.
    expect(committed()).toBe(
      runScript('scripts/config-reference.cjs', '--stdout'),
    );
  }, 120_000);

  it('has a row for every variable of every service, naming the service', () => {
    // `| \`NAME\` | users, orders | ...`: the services that read it, in the second column.
    const rows = new Map<string, string[]>();
    for (const [, name, readers] of committed().matchAll(
      /^\| `([A-Z][A-Z0-9_]*)` +\| ([^|]*)\|/gm,
    ))
      rows.set(
        name,
        readers.split(',').map((reader) => reader.trim()),
      );
    const missing = serviceDefinitions().flatMap((service) =>
      Object.keys(new service.config())
        .filter((variable) => !rows.get(variable)?.includes(service.name))
        .map((variable) => `${service.name}: ${variable}`),
    );
    expect(missing).toEqual([]);
    expect(rows.size).toBeGreaterThan(0);
  });
});
