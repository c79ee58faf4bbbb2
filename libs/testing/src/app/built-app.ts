import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { eventually } from './eventually';
import { ROOT, serviceNames } from './services';

/** A port that was free a moment ago, for a process that cannot be told to pick its own. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface BuiltApp {
  process: ChildProcess;
  url: string;
  /** Everything the process wrote, stdout and stderr. */
  output(): string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function builtMain(app: string): string {
  if (!serviceNames().includes(app))
    throw new Error(`${app} is not a service of nest-cli.json`);
  const main = join(ROOT, 'dist', 'apps', app, 'main.js');
  if (!existsSync(main)) {
    throw new Error(
      `${main} is missing: run "npm run build" first (npm test does).`,
    );
  }
  return main;
}

/** Runs a built app (`node dist/apps/<app>/main.js`) as a real process, as a user would. */
export function spawnBuiltApp(
  app: string,
  env: Record<string, string>,
): Omit<BuiltApp, 'url'> {
  const child = spawn(process.execPath, [builtMain(app)], {
    cwd: ROOT,
    // Production logs (JSON lines), and no drain unless a test wants one.
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      SHUTDOWN_DRAIN_MS: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => resolve(code)),
  );
  return {
    process: child,
    output: () => output,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null)
        child.kill(signal);
      return exited;
    },
  };
}

/**
 * Starts a built app on `port` and waits until it answers HTTP, for at most `limitMs` (more for
 * a suite that starts apps while its own load keeps the machine busy).
 */
export async function startBuiltApp(
  app: string,
  port: number,
  env: Record<string, string>,
  { limitMs = 15_000 } = {},
): Promise<BuiltApp> {
  const started = spawnBuiltApp(app, env);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + limitMs;
  for (;;) {
    if (started.process.exitCode !== null) {
      throw new Error(`${app} exited early:\n${started.output()}`);
    }
    try {
      await fetch(`${url}/health/live`);
      return { ...started, url };
    } catch {
      if (Date.now() > deadline) {
        await started.stop('SIGKILL');
        throw new Error(
          `${app} did not start within ${limitMs} ms:\n${started.output()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Waits until an app says it is ready (a database-backed app answers live before it is). */
export async function waitUntilReady(
  url: string,
  timeoutMs = 20_000,
): Promise<void> {
  await eventually(
    () =>
      fetch(`${url}/health/ready`)
        .then((response) => response.status)
        .catch(() => 0),
    (status) => status === 200,
    `${url} to be ready`,
    { limitMs: timeoutMs, everyMs: 50 },
  );
}
