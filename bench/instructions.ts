// Instructions per request, under valgrind's callgrind: a count a busy machine does not move.
// Each server of a pair runs under callgrind; after a warm-up, every route is sent a fixed
// number of requests one after the other on one keep-alive connection, and each process's
// instructions over that window are divided by the requests. Features with a switch are then
// switched off one at a time (or on, for one that is off by default), and the difference is their
// cost. `npm run bench:instructions`, and a section of `npm run bench`; see docs/performance.md.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasCallgrind, valgrindVersion } from './callgrind';
import { FEATURES, ROUTES, TARGETS, Target } from './instructions-setup';
import { measureTarget } from './instructions-measure';
import { renderInstructions } from './instructions-report';
import type {
  InstructionsOptions,
  InstructionsResult,
  Measured,
} from './instructions-types';

export async function measureInstructions(
  options: InstructionsOptions,
): Promise<InstructionsResult | undefined> {
  if (!(await hasCallgrind())) {
    console.log(
      '\nInstructions per request: skipped, valgrind is not installed (Debian: apt-get install valgrind).',
    );
    return undefined;
  }
  console.log(
    `\nInstructions per request (callgrind): per route ${options.warmup} requests of warm-up, ` +
      `then ${options.windows} windows of ${options.requests} counted`,
  );
  // The quick run only keeps the machinery working: the project, no switches.
  const wanted = ({ key }: Target) =>
    options.only.length === 0 || options.only.includes(key);
  const targets = (options.quick ? TARGETS.slice(0, 1) : TARGETS).filter(
    wanted,
  );
  const variants = options.quick
    ? []
    : FEATURES.filter((feature) => wanted(feature.target));
  if (targets.length + variants.length === 0) return undefined;
  const routes = ROUTES.filter(
    (route) =>
      options.routes.length === 0 || options.routes.includes(route.key),
  );
  const dir = mkdtempSync(join(tmpdir(), 'bench-callgrind-'));
  const figures = new Map<string, Map<string, Measured>>();
  try {
    for (const target of targets)
      figures.set(
        target.name,
        await measureTarget(target, routes, options, dir),
      );
    for (const feature of variants)
      figures.set(
        feature.target.name,
        await measureTarget(
          feature.target,
          routes.filter((route) => feature.routes.includes(route.key)),
          options,
          dir,
        ),
      );
    if (options.keep) console.log(`callgrind's files: ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  } catch (error) {
    console.error(`callgrind's files and the servers' output: ${dir}`);
    throw error;
  }
  return { options, valgrind: await valgrindVersion(), figures };
}

/** The section for bench/RESULTS.md, or nothing when valgrind is missing. */
export async function instructionsSection(quick: boolean): Promise<string[]> {
  const option = (name: string) =>
    process.argv
      .find((arg) => arg.startsWith(`--${name}=`))
      ?.slice(name.length + 3);
  const result = await measureInstructions({
    quick,
    warmup: Number(option('warmup') ?? (quick ? 10 : 2000)),
    requests: Number(option('requests') ?? (quick ? 10 : 500)),
    windows: Number(option('windows') ?? (quick ? 1 : 3)),
    only: option('only')?.split(',') ?? [],
    routes: option('routes')?.split(',') ?? [],
    keep: process.argv.includes('--keep'),
  });
  return result ? renderInstructions(result) : [];
}

if (require.main === module) {
  const quick = process.argv.includes('--quick');
  instructionsSection(quick).then(
    (lines) => console.log(lines.join('\n')),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
