import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const { nodeProblem } = require('../scripts/check-node.cjs') as {
  nodeProblem: (found: string, required: string) => string | undefined;
};

describe('the Node version check that npm start, npm test and npm run bench run first', () => {
  const { engines, scripts } = JSON.parse(
    readFileSync(join(ROOT, 'package.json'), 'utf8'),
  ) as { engines: { node: string }; scripts: Record<string, string> };

  it.each(['20.20.2', '22.22.0', '24.8.9'])(
    'refuses Node %s in one line that names both versions and the way out',
    (found) => {
      expect(nodeProblem(found, '24.9')).toBe(
        `This project needs Node.js 24.9 or newer; this is Node.js ${found}. ` +
          'Run `nvm use` (see .nvmrc) or `npm install --global node@24`, then try again.',
      );
    },
  );

  it.each(['24.9.0', '24.21.0', '25.0.0'])('accepts Node %s', (found) => {
    expect(nodeProblem(found, '24.9')).toBeUndefined();
  });

  it('passes on the Node running this test, reading the version from package.json', () => {
    const run = spawnSync(process.execPath, ['scripts/check-node.cjs'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect([run.status, run.stderr]).toEqual([0, '']);
    expect(engines.node).toBe('>=24.9');
    expect(readFileSync(join(ROOT, '.nvmrc'), 'utf8').trim()).toBe('24');
  });

  it.each(['start', 'start:prod', 'build'])(
    'runs before npm run %s',
    (script) => {
      expect(scripts[`pre${script}`]).toBe('node scripts/check-node.cjs');
    },
  );

  it.each(['pretest', 'bench', 'pretest:watch', 'pretest:cov'])(
    'runs first in %s',
    (script) => {
      expect(scripts[script]).toMatch(/^node scripts\/check-node\.cjs( &&|$)/);
    },
  );
});
