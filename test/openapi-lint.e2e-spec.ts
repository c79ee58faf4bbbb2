import { createTestApp, testConfig } from '@app/testing';
import { INestApplication } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { serviceDefinitions } from './service-definitions';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');
const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);
const CONFIG = join(ROOT, 'test', 'openapi-lint');

/** As a deployment with authentication on serves it: scopes, 401s and 403s on every API route. */
const AUTH_ON = {
  AUTH_ISSUER: 'https://idp.example.com/',
  AUTH_JWKS_URL: 'https://idp.example.com/jwks',
};

/** Every service of nest-cli.json, booted as a deployment would boot it, its audience its name. */
const services = serviceDefinitions().map((service) => ({
  name: service.name,
  boot: (auth: object) =>
    createTestApp(
      service.module(
        testConfig(service.config, { ...auth, AUTH_AUDIENCE: service.name }),
      ),
    ),
}));

/**
 * Every service's document, as it serves it with authentication off and on, linted as the
 * teams that generate clients lint them: Redocly's recommended rules and Spectral's OpenAPI
 * rules, with the committed configurations in test/openapi-lint (a rule turned off says why
 * there). Not one error, not one warning.
 */
describe.each([
  ['authentication off', {}],
  ['authentication on', AUTH_ON],
])('the served OpenAPI documents, %s', (_name, auth) => {
  let dir: string;
  const files: Record<string, string> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'openapi-lint-'));
    for (const service of services) {
      const app: INestApplication = await service.boot(auth);
      try {
        const { text } = await request(app.getHttpServer())
          .get('/openapi.json')
          .expect(200);
        files[service.name] = join(dir, `${service.name}.json`);
        writeFileSync(files[service.name], text);
      } finally {
        await app.close();
      }
    }
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(services.map(({ name }) => name))(
    "%s's passes Redocly's recommended rules",
    async (name) => {
      const linted = await run(
        bin('redocly'),
        [
          'lint',
          '--config',
          join(CONFIG, 'redocly.yaml'),
          '--format',
          'json',
          files[name],
        ],
        { env: { ...process.env, REDOCLY_TELEMETRY: 'off' } },
      ).catch((failed: { stdout: string }) => failed);
      const { totals, problems } = JSON.parse(linted.stdout) as {
        totals: { errors: number; warnings: number };
        problems: { ruleId: string; message: string }[];
      };
      expect({ totals, problems }).toEqual({
        totals: expect.objectContaining({ errors: 0, warnings: 0 }),
        problems: [],
      });
    },
  );

  it.each(services.map(({ name }) => name))(
    "%s's passes Spectral's OpenAPI rules",
    async (name) => {
      const output = join(dir, `${name}.spectral.json`);
      await run(bin('spectral'), [
        'lint',
        '--ruleset',
        join(CONFIG, 'spectral.yaml'),
        '--format',
        'json',
        '--output',
        output,
        '--fail-severity',
        'hint',
        files[name],
      ]).catch(() => undefined);
      const results = JSON.parse(readFileSync(output, 'utf8')) as {
        code: string;
        message: string;
      }[];
      expect(results.map(({ code, message }) => `${code}: ${message}`)).toEqual(
        [],
      );
    },
  );
});
