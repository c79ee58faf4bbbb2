import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';

/**
 * podman as this machine runs it: runc (crun refuses hybrid cgroups), and the machine's own
 * rlimits, since podman's defaults are above the hard limits here and runc cannot set them.
 */
export const HARD_NOFILE = execFileSync('sh', ['-c', 'ulimit -Hn'], {
  encoding: 'utf8',
}).trim();
export const ULIMITS = [
  '--ulimit',
  `nofile=${HARD_NOFILE}:${HARD_NOFILE}`,
  '--ulimit',
  'nproc=4096:4096',
];

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** One podman command, with `--runtime runc`; resolves with what it printed, whatever its status. */
export function podman(
  args: string[],
  { env, log }: { env?: NodeJS.ProcessEnv; log?: string } = {},
): Promise<Result> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('podman', ['--runtime', 'runc', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const file = log ? createWriteStream(log) : undefined;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      file?.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      file?.write(chunk);
    });
    child.once('error', reject);
    child.once('close', (status) => {
      file?.end();
      resolve({
        status,
        stdout,
        stderr,
        seconds: (Date.now() - started) / 1000,
      });
    });
  });
}

/** A podman command that must succeed: its stdout, or an error with the end of what it said. */
export async function podmanOk(
  args: string[],
  options?: Parameters<typeof podman>[1],
): Promise<string> {
  const result = await podman(args, options);
  if (result.status !== 0) {
    const said = `${result.stdout}\n${result.stderr}`
      .trim()
      .split('\n')
      .filter((line) => !isSystemdNoise(line))
      .slice(-30)
      .join('\n');
    throw new Error(
      `podman ${args.join(' ')} exited ${result.status}:\n${said}`,
    );
  }
  return result.stdout;
}

/** Without systemd podman cannot schedule healthchecks, and says so on every call; not an error. */
export function isSystemdNoise(line: string): boolean {
  return /unable to get systemd connection|run\/systemd\/private/.test(line);
}

// oxlint-disable-next-line typescript/no-explicit-any -- podman's inspect JSON, read field by field as each test needs
export async function inspect<T = Record<string, any>>(
  what: 'container' | 'image',
  name: string,
): Promise<T> {
  const [found] = JSON.parse(await podmanOk([what, 'inspect', name])) as T[];
  return found;
}

/** The uids (real, effective, saved, fs) of a container's main process, read from the host. */
export async function processUids(container: string): Promise<number[]> {
  const status = await processStatus(container);
  return /^Uid:\s+(.*)$/m.exec(status)![1].trim().split(/\s+/).map(Number);
}

/**
 * `podman healthcheck run`: the container's health check (the image's HEALTHCHECK, or a pod's
 * liveness probe) run once, and what came of it. Without systemd podman also logs that it cannot
 * schedule the check; only its `Error` lines are errors of the check.
 */
export async function runHealthcheck(container: string) {
  const { status, stdout, stderr } = await podman([
    'healthcheck',
    'run',
    container,
  ]);
  return {
    container,
    status,
    stdout: stdout.trim(),
    errors: stderr.split('\n').filter((line) => line.startsWith('Error')),
  };
}

/** What `runHealthcheck` gives for a healthy container. */
export const healthy = (container: string) => ({
  container,
  status: 0,
  stdout: expect.not.stringContaining('unhealthy'),
  errors: [],
});

/** Whether the container's process may never gain privileges (allowPrivilegeEscalation: false). */
export async function noNewPrivileges(container: string): Promise<boolean> {
  return /^NoNewPrivs:\s+1$/m.test(await processStatus(container));
}

/** The host's /proc status of a container's main process. */
async function processStatus(container: string): Promise<string> {
  const { State } = await inspect('container', container);
  return readFileSync(`/proc/${State.Pid}/status`, 'utf8');
}

/** Every image id podman has, intermediate build layers included. */
export async function imageIds(): Promise<Set<string>> {
  const listed = await podmanOk(['images', '--all', '--quiet', '--no-trunc']);
  return new Set(
    listed
      .split('\n')
      .filter(Boolean)
      .map((id) => id.replace(/^sha256:/, '')),
  );
}

/** The id an image name points at now, if any. */
export async function imageId(name: string): Promise<string | undefined> {
  const result = await podman([
    'image',
    'inspect',
    '--format',
    '{{.Id}}',
    name,
  ]);
  return result.status === 0
    ? result.stdout.trim().replace(/^sha256:/, '')
    : undefined;
}

/** Size in MB (10^6 bytes, as podman prints it). */
export const megabytes = (bytes: number) => Math.round(bytes / 1e5) / 10;
