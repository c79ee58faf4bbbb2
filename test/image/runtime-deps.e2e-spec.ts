import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from './build-stage';

const deps = require('../../scripts/runtime-deps.cjs') as {
  bundleRequires: (folder: string, optional: string[]) => string[];
  closure: (lock: object, roots: string[]) => Set<string>;
  runtimePackages: (dir: string) => Set<string>;
  prune: (
    dir: string,
    kept: Set<string>,
  ) => { removed: string[]; trimmed: number };
};
const { OPTIONAL } = require('../../rspack.config.js') as {
  OPTIONAL: string[];
};

/** What the Dockerfile's runtime-deps stage keeps of node_modules (scripts/runtime-deps.cjs). */
describe('the runtime image’s node_modules', () => {
  it('follows dependencies as Node resolves them, nested copies first, dev packages never', () => {
    const lock = {
      packages: {
        '': { dependencies: { a: '1', c: '1' } },
        'node_modules/a': { dependencies: { b: '2' } },
        'node_modules/a/node_modules/b': { dependencies: { c: '1' } },
        'node_modules/b': {},
        'node_modules/c': {
          peerDependencies: { d: '1', typescript: '5' },
          peerDependenciesMeta: { typescript: { optional: true } },
          optionalDependencies: { 'c-linux-arm64': '1' },
        },
        'node_modules/d': {},
        'node_modules/typescript': { devOptional: true },
        'node_modules/e': { dev: true },
      },
    };
    expect([...deps.closure(lock, ['a'])].sort()).toEqual([
      'node_modules/a',
      'node_modules/a/node_modules/b',
      'node_modules/c',
      'node_modules/d',
    ]);
    expect(() => deps.closure(lock, ['e'])).toThrow(
      'node_modules/e (needed by the bundles) is not a production package',
    );
    expect(() =>
      deps.closure(
        { packages: { 'node_modules/a': { dependencies: { gone: '1' } } } },
        ['a'],
      ),
    ).toThrow('node_modules/a needs gone, which package-lock.json lacks');
  });

  it("reads what a bundle requires from its code, not its comments, Node's modules or the optional ones", () => {
    const dir = mkdtempSync(join(tmpdir(), 'bundle-'));
    try {
      writeFileSync(
        join(dir, 'main.js'),
        [
          'module.exports = require("pino");',
          "const x = require('class-validator');",
          " * app.engine('ejs', require('ejs').__express);",
          '// require("in-a-comment")',
          'require("node:fs"); require("stream"); require("./0.main.js");',
          'require("@nestjs/microservices/microservices-module.js");',
          "swagger = require('swagger-ui-dist/absolute-path.js')();",
        ].join('\n'),
      );
      writeFileSync(join(dir, '0.main.js'), 'require("@scope/pkg/sub");');
      writeFileSync(join(dir, 'main.js.map'), 'require("not-code")');
      expect(deps.bundleRequires(dir, OPTIONAL)).toEqual([
        '@scope/pkg',
        'class-validator',
        'pino',
        'swagger-ui-dist',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('after a prune, still has every package the built bundles require, and no declarations or source maps', () => {
    const dir = mkdtempSync(join(tmpdir(), 'runtime-deps-'));
    try {
      // What `npm ci --omit=dev` installs, hard-linked from this checkout's install: the prune
      // removes links, never the files here.
      const lock = JSON.parse(
        readFileSync(join(ROOT, 'package-lock.json'), 'utf8'),
      ) as { packages: Record<string, { dev?: boolean }> };
      const installed = Object.entries(lock.packages)
        .filter(([path, entry]) => path && !entry.dev)
        .map(([path]) => path)
        .filter((path) => path.lastIndexOf('node_modules/') === 0);
      const byFolder = new Map<string, string[]>();
      for (const path of installed)
        byFolder.set(dirname(path), [
          ...(byFolder.get(dirname(path)) ?? []),
          path,
        ]);
      for (const [folder, paths] of byFolder) {
        mkdirSync(join(dir, folder), { recursive: true });
        execFileSync('cp', [
          '-al',
          ...paths.map((path) => join(ROOT, path)),
          join(dir, folder),
        ]);
      }
      for (const file of [
        'package.json',
        'package-lock.json',
        'rspack.config.js',
      ])
        cpSync(join(ROOT, file), join(dir, file));
      mkdirSync(join(dir, 'dist'));
      cpSync(join(ROOT, 'dist', 'apps'), join(dir, 'dist', 'apps'), {
        recursive: true,
      });
      const kept = deps.runtimePackages(dir);
      const { removed, trimmed } = deps.prune(dir, kept);
      expect(removed).toContain('node_modules/typescript');
      expect(trimmed).toBeGreaterThan(0);
      expect(existsSync(join(dir, 'node_modules', '.bin'))).toBe(false);
      for (const app of readdirSync(join(dir, 'dist', 'apps'))) {
        const folder = join(dir, 'dist', 'apps', app);
        const resolveHere = createRequire(join(folder, 'main.js'));
        const unresolved = deps
          .bundleRequires(folder, OPTIONAL)
          .filter((id) => {
            try {
              return !resolveHere.resolve(id).startsWith(dir);
            } catch {
              return true;
            }
          });
        expect({ app, unresolved }).toEqual({ app, unresolved: [] });
      }
      const leftOver = execFileSync(
        'find',
        [
          join(dir, 'node_modules'),
          '-type',
          'f',
          '(',
          '-name',
          '*.d.ts',
          '-o',
          '-name',
          '*.js.map',
          ')',
        ],
        { encoding: 'utf8' },
      );
      expect(leftOver).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
