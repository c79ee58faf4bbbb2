import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
} from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

/** One instruction of a Dockerfile: `COPY a b ./` is { op: 'COPY', args: ['a', 'b', './'] }. */
export interface Instruction {
  op: string;
  args: string[];
  text: string;
}

export interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

/** The stages of a Dockerfile, with continuation lines joined and comments dropped. */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  for (const line of lines) {
    const [op, ...rest] = line.split(/\s+/);
    const instruction = {
      op: op.toUpperCase(),
      args: rest,
      text: line.slice(op.length).trim(),
    };
    if (instruction.op === 'FROM') {
      const [from, as, name] = rest;
      stages.push({
        from,
        name: as?.toUpperCase() === 'AS' ? name : String(stages.length),
        instructions: [],
      });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return stages;
}

/** A .dockerignore pattern as Docker reads it: a glob where `**` spans folders. */
function patternRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '*' && pattern[i + 1] === '*') {
      // `**/` (or a final `**`): any number of folders, none included.
      source += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += pattern[i + 2] === '/' ? 2 : 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '[' || char === '\\')
      throw new Error(`.dockerignore: this test does not read "${pattern}"`);
    else source += char.replace(/[.+^${}()|]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/**
 * Docker's reading of .dockerignore: the last pattern that matches a path or one of its folders
 * decides, a `!` pattern letting it back in.
 */
export function dockerignore(text: string): {
  ignores(path: string): boolean;
  mayLetInBelow(dir: string): boolean;
} {
  const rules = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const include = line.startsWith('!');
      const pattern = posix
        .normalize(include ? line.slice(1).trim() : line)
        .replace(/^\/+/, '')
        .replace(/\/+$/, '');
      return { include, pattern, regexp: patternRegExp(pattern) };
    });
  const matches = (regexp: RegExp, path: string) => {
    const parts = path.split('/');
    return parts.some((_, i) => regexp.test(parts.slice(0, i + 1).join('/')));
  };
  return {
    ignores(path) {
      let ignored = false;
      for (const rule of rules)
        if (matches(rule.regexp, path)) ignored = !rule.include;
      return ignored;
    },
    // Whether a `!` pattern could let in something below an ignored folder: then it is walked.
    mayLetInBelow(dir) {
      return rules.some(({ include, pattern }) => {
        if (!include) return false;
        const literal = pattern.split(/[*?]/)[0];
        return literal.startsWith(`${dir}/`) || dir.startsWith(literal);
      });
    },
  };
}

/** The files (paths relative to the root) that `docker build` sends as the build context. */
export function buildContext(root = ROOT): string[] {
  const ignore = dockerignore(
    existsSync(join(root, '.dockerignore'))
      ? readFileSync(join(root, '.dockerignore'), 'utf8')
      : '',
  );
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      const ignored = ignore.ignores(path);
      if (entry.isDirectory()) {
        if (!ignored || ignore.mayLetInBelow(path)) walk(path);
      } else if (!ignored) {
        files.push(path);
      }
    }
  };
  walk('');
  return files.sort();
}

/** Files a clean checkout has: tracked and new ones, not what .gitignore leaves out (dist). */
export function checkoutFiles(root = ROOT): Set<string> {
  const listed = spawnSync(
    'git',
    ['ls-files', '--cached', '--others', '--exclude-standard'],
    { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (listed.status !== 0)
    throw new Error(`git ls-files failed: ${listed.stderr || listed.error}`);
  return new Set(
    listed.stdout
      .split('\n')
      .filter((path) => path && existsSync(join(root, path))),
  );
}

export interface StageBuild {
  /** Where the stage's WORKDIR is, on this machine. */
  dir: string;
  /** What `npm run build` printed, and its exit status. */
  output: string;
  status: number | null;
  /** Every path a Node process of the build looked at. */
  traced: Set<string>;
}

/**
 * Replays a Dockerfile stage here: its COPY lines from the build context into a folder standing
 * for its WORKDIR, `npm ci` as this checkout's own node_modules (hard links: the same lock file
 * installs the same packages), and `npm run build` with every Node process's file lookups traced.
 * Throws, saying which line, on what it cannot replay.
 */
export function replayStage(
  stage: Stage,
  into: string,
  root = ROOT,
): StageBuild {
  const context = buildContext(root);
  let workdir: string | undefined;
  let build: Omit<StageBuild, 'dir'> | undefined;
  const dir = join(into, 'workdir');
  mkdirSync(dir, { recursive: true });
  const inStage = (path: string) =>
    posix.isAbsolute(path)
      ? join(dir, posix.relative(workdir ?? '/', path))
      : join(dir, path);

  for (const { op, args, text } of stage.instructions) {
    if (op === 'WORKDIR') {
      if (workdir)
        throw new Error(`a second WORKDIR (${text}) is not replayed`);
      workdir = args[0];
    } else if (op === 'COPY') {
      const flags = args.filter((arg) => arg.startsWith('--'));
      if (flags.some((flag) => flag.startsWith('--from')))
        throw new Error(`COPY from another stage is not replayed: ${text}`);
      const [dest, ...sources] = args
        .filter((arg) => !arg.startsWith('--'))
        .reverse();
      for (const source of sources.reverse()) {
        const path = posix
          .normalize(source)
          .replace(/^\.?\/+/, '')
          .replace(/\/+$/, '');
        const files = context.filter(
          (file) => file === path || file.startsWith(`${path}/`),
        );
        if (files.length === 0)
          throw new Error(
            `COPY ${source}: not in the build context (${existsSync(join(root, path)) ? '.dockerignore leaves it out' : 'no such file'})`,
          );
        const isDir = !(files.length === 1 && files[0] === path);
        for (const file of files) {
          const target = isDir
            ? join(inStage(dest), relative(path, file))
            : dest.endsWith('/') || sources.length > 1
              ? join(inStage(dest), posix.basename(file))
              : inStage(dest);
          mkdirSync(dirname(target), { recursive: true });
          cpSync(join(root, file), target);
        }
      }
    } else if (op === 'RUN' && /^npm ci\b/.test(text)) {
      for (const file of ['package.json', 'package-lock.json'])
        if (!existsSync(join(dir, file)))
          throw new Error(`${text}: runs before ${file} is copied`);
      execFileSync('cp', ['-al', join(root, 'node_modules'), dir]);
    } else if (op === 'RUN' && text === 'npm run build') {
      build = traced(dir, ['npm', 'run', 'build'], into);
    } else if (op === 'RUN') {
      throw new Error(`this test does not know how to replay: RUN ${text}`);
    } else if (!['ENV', 'ARG', 'LABEL'].includes(op)) {
      throw new Error(`this test does not know how to replay: ${op} ${text}`);
    }
  }
  if (!build)
    throw new Error(`the ${stage.name} stage does not run npm run build`);
  return { dir, ...build };
}

/** Runs a command with every Node process's file lookups recorded (trace-files.cjs). */
function traced(cwd: string, [command, ...args]: string[], scratch: string) {
  const traces = join(scratch, 'traces');
  mkdirSync(traces, { recursive: true });
  const run = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    // As clean as a build stage's: this Node first, no npm settings of the run around it.
    env: {
      PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
      HOME: process.env.HOME,
      NODE_OPTIONS: `--require ${join(__dirname, 'trace-files.cjs')}`,
      TRACE_FILES_DIR: traces,
    },
  });
  const seen = new Set<string>();
  for (const file of readdirSync(traces))
    for (const path of readFileSync(join(traces, file), 'utf8').split('\n'))
      if (path) seen.add(path);
  return {
    output: `${run.stdout ?? ''}${run.stderr ?? ''}${run.error ? String(run.error) : ''}`,
    status: run.status,
    traced: seen,
  };
}

/**
 * What the build looked for in the stage and did not find, though the checkout has it: each as
 * a sentence naming the file and why the stage lacks it.
 */
export function missingFromStage(build: StageBuild, root = ROOT): string[] {
  const checkout = checkoutFiles(root);
  const ignore = dockerignore(
    readFileSync(join(root, '.dockerignore'), 'utf8'),
  );
  const missing = new Set<string>();
  for (const path of build.traced) {
    const inStage = relative(build.dir, path);
    if (inStage.startsWith('..') || inStage === '') continue;
    const file = inStage.split('\\').join('/');
    if (existsSync(path) || !checkout.has(file)) continue;
    missing.add(file);
  }
  return [...missing]
    .sort()
    .map(
      (file) =>
        `the build stage does not copy ${file}, which the build reads (${ignore.ignores(file) ? '.dockerignore leaves it out of the build context' : 'no COPY line of the build stage copies it'})`,
    );
}

/** sha256 of every file under `dir`, by path relative to it. */
export function fileHashes(dir: string): Record<string, string> {
  const hashes: Record<string, string> = {};
  const walk = (sub: string) => {
    for (const entry of readdirSync(join(dir, sub), { withFileTypes: true })) {
      const path = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path);
      else
        hashes[path] = createHash('sha256')
          .update(readFileSync(join(dir, path)))
          .digest('hex');
    }
  };
  if (existsSync(dir) && statSync(dir).isDirectory()) walk('');
  return hashes;
}
