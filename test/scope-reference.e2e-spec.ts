import {
  createTestApp,
  ROOT,
  testConfig,
  validOpenApiDocument,
} from '@app/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runScript } from './operating';
import { serviceDefinitions } from './service-definitions';

/**
 * The scope table of docs/security.md is written by scripts/scope-reference.cjs
 * (`npm run docs:scopes`) from each controller's decorators. It must be what the script writes
 * now, and, checked against the apps themselves rather than the script's reading of their source,
 * name every route that takes a token with the scopes the app enforces (which its OpenAPI
 * document carries in `x-required-scopes`).
 */
const PAGE = 'docs/security.md';
const committed = () => readFileSync(join(ROOT, PAGE), 'utf8');

const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;

describe('the scope table (docs/security.md)', () => {
  it('is what `npm run docs:scopes` writes from the controllers now', () => {
    // A difference here: run `npm run docs:scopes` and commit docs/security.md.
    expect(committed()).toBe(
      runScript('scripts/scope-reference.cjs', '--stdout'),
    );
  }, 120_000);

  it("lists every service's routes with the scopes its OpenAPI document requires", async () => {
    // `| users | \`GET /users/:id\` | \`users:read\` |`, in the OpenAPI document's path syntax.
    const rows = [
      ...committed().matchAll(/^\| (\w+) +\| `(\w+) ([^`]+)` +\| ([^|]*)\|/gm),
    ]
      .map(
        ([, service, method, path, scopes]) =>
          `${service} ${method} ${path.replace(/:(\w+)/g, '{$1}')}: ${scopes.trim()}`,
      )
      .sort();
    const required: string[] = [];
    for (const service of serviceDefinitions()) {
      const app = await createTestApp(
        service.module(testConfig(service.config)),
      );
      try {
        const document = await validOpenApiDocument(app);
        for (const [path, item] of Object.entries(document.paths))
          for (const method of METHODS) {
            const operation = item?.[method];
            const scopes =
              operation && 'x-required-scopes' in operation
                ? operation['x-required-scopes']
                : undefined;
            if (Array.isArray(scopes))
              required.push(
                `${service.name} ${method.toUpperCase()} ${path}: ${scopes.map((scope) => `\`${String(scope)}\``).join(', ')}`,
              );
          }
      } finally {
        await app.close();
      }
    }
    expect(rows).toEqual(required.sort());
    expect(rows.length).toBeGreaterThan(0);
  }, 120_000);
});
