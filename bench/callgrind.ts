// Servers under valgrind's callgrind, for bench/instructions.ts. Each starts with instrumentation
// off, so start-up and warm-up run at valgrind's plain speed (the JIT compiles the same code
// either way); a window then switches it on, zeroes the counters, runs the work and dumps them.
// The count is every instruction the process executed in the window, on all its threads (V8's
// compiler and GC helpers too), none of the kernel's.
import { ChildProcess, execFile, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Whether valgrind and callgrind_control are on PATH. */
export async function hasCallgrind(): Promise<boolean> {
  try {
    await exec('valgrind', ['--version']);
    await exec('callgrind_control', ['-h']);
    return true;
  } catch {
    return false;
  }
}

export async function valgrindVersion(): Promise<string> {
  return (await exec('valgrind', ['--version'])).stdout.trim();
}

export interface Counted {
  label: string;
  child: ChildProcess;
  url: string;
  /** The dump files' prefix; callgrind adds `.<pid>.<n>`. */
  outFile: string;
  dumps: number;
}

const running = new Set<ChildProcess>();
process.on('exit', () => running.forEach((child) => child.kill('SIGKILL')));

/** Starts `node <args>` under callgrind and waits for its first 200 on /health/ready. */
export async function startCounted(
  label: string,
  dir: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  port: number,
): Promise<Counted> {
  const outFile = join(dir, label);
  const log = openSync(`${outFile}.log`, 'a');
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      // V8 writes the code it runs at run time: valgrind must notice code changing anywhere
      // outside a file mapping.
      '--smc-check=all-non-file',
      '--instr-atstart=no',
      // A file per thread: the main thread (the event loop, where requests run) apart from V8's
      // helpers, whose compiling and collecting in the background comes and goes.
      '--separate-threads=yes',
      `--callgrind-out-file=${outFile}.%p`,
      process.execPath,
      ...args,
    ],
    { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', log, log] },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`${label} exited; see ${outFile}.log`);
    const ok = await fetch(`${url}/health/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return { label, child, url, outFile, dumps: 0 };
    if (performance.now() - started > 180_000)
      throw new Error(`${label} not ready; see ${outFile}.log`);
    await sleep(100);
  }
}

export async function stopCounted({ child }: Counted): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

const control = (server: Counted, ...args: string[]) =>
  exec('callgrind_control', [...args, String(server.child.pid)]);

/** Instructions (Ir) counted in a window: on the main thread, and on all the others. */
export interface Count {
  main: number;
  helpers: number;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** A dump's counts, from the `totals:` line of each thread's file once callgrind has written them. */
async function readDump(server: Counted): Promise<Count> {
  const prefix = `${basename(server.outFile)}.${server.child.pid}.${++server.dumps}-`;
  const dir = dirname(server.outFile);
  for (let tries = 0; tries < 600; tries++) {
    const files = readdirSync(dir).filter((file) => file.startsWith(prefix));
    const totals = files.map((file) => ({
      main: file.endsWith('-01'),
      ir: /^totals:\s+(\d+)/m.exec(readFileSync(join(dir, file), 'utf8'))?.[1],
    }));
    if (totals.some((t) => t.main) && totals.every((t) => t.ir !== undefined))
      return {
        main: sum(totals.filter((t) => t.main).map((t) => Number(t.ir))),
        helpers: sum(totals.filter((t) => !t.main).map((t) => Number(t.ir))),
      };
    await sleep(50);
  }
  throw new Error(`no callgrind dump ${prefix}* in ${dir}`);
}

/**
 * The instructions each server executed while `work` ran, in the order given. `prime` runs first,
 * instrumented but not counted: valgrind translates the code anew when instrumentation comes on,
 * which makes the first requests slow enough to meet a deadline.
 */
export async function countDuring(
  servers: Counted[],
  prime: () => Promise<unknown>,
  work: () => Promise<void>,
): Promise<Count[]> {
  for (const server of servers) await control(server, '--instr=on');
  await prime();
  for (const server of servers) await control(server, '--zero');
  await work();
  const counts: Count[] = [];
  for (const server of servers) {
    await control(server, '--dump');
    await control(server, '--instr=off');
    counts.push(await readDump(server));
    // node --perf-basic-prof (bench:instructions --keep): the JIT's names as of this dump, for
    // callgrind's addresses (code compiled later may reuse an address).
    const perfMap = `/tmp/perf-${server.child.pid}.map`;
    if (existsSync(perfMap))
      copyFileSync(
        perfMap,
        `${server.outFile}.${server.child.pid}.${server.dumps}.perf.map`,
      );
  }
  return counts;
}
