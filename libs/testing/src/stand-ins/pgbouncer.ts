import { ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../app/built-app';
import { eventually } from '../app/eventually';

export interface PgBouncer {
  port: number;
  /** `databaseUrl` (a database of the server behind it), reached through the pooler instead. */
  url(databaseUrl: string): string;
  /** What PgBouncer logged. */
  output(): string;
  stop(): Promise<void>;
}

const BINARY = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'].find((path) =>
  existsSync(path),
);

/**
 * Debian's PgBouncer in front of the PostgreSQL server `serverUrl` (its superuser URL, whose
 * user and password clients use too), in transaction pooling mode as teams with many replicas
 * run it, with no `ignore_startup_parameters`: a service that sends what PgBouncer refuses
 * fails here as it would there. At most `poolSize` server connections per database.
 */
export async function startPgBouncer(
  serverUrl: string,
  { poolSize = 10 }: { poolSize?: number } = {},
): Promise<PgBouncer> {
  if (!BINARY)
    throw new Error(
      'pgbouncer not found: install it with "apt-get install -y pgbouncer" (.ci/run does)',
    );
  const server = new URL(serverUrl);
  const user = decodeURIComponent(server.username);
  const password = decodeURIComponent(server.password);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'pgbouncer-'));
  // PgBouncer refuses to run as root; as root it runs as `postgres`, who must read its files.
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'userlist.txt'), `"${user}" "${password}"\n`, {
    mode: 0o644,
  });
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${server.hostname} port=${server.port}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      `pidfile = ${join(dir, 'pgbouncer.pid')}`,
      'auth_type = scram-sha-256',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      'pool_mode = transaction',
      'max_client_conn = 2000',
      `default_pool_size = ${poolSize}`,
      // PostgreSQL back after a restart: connect again soon, not after the default 15 s.
      'server_login_retry = 0.25',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const asRoot = process.getuid?.() === 0;
  // Its pid file is written by the user it runs as.
  if (asRoot)
    chownSync(
      dir,
      Number(execFileSync('id', ['-u', 'postgres']).toString()),
      Number(execFileSync('id', ['-g', 'postgres']).toString()),
    );
  const args = [join(dir, 'pgbouncer.ini')];
  const child: ChildProcess = asRoot
    ? spawn('runuser', ['-u', 'postgres', '--', BINARY, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = (databaseUrl: string) => {
    const through = new URL(databaseUrl);
    through.hostname = '127.0.0.1';
    through.port = String(port);
    return through.toString();
  };
  await eventually(
    async () => {
      if (child.exitCode !== null)
        throw new Error(`pgbouncer exited at start:\n${output}`);
      const client = new Client({ connectionString: url(serverUrl) });
      return client
        .connect()
        .then(() => client.end())
        .then(
          () => true,
          () => false,
        );
    },
    Boolean,
    'PgBouncer to accept connections',
    { limitMs: 30_000, everyMs: 50 },
  );
  return {
    port,
    url,
    output: () => output,
    async stop() {
      // runuser does not pass signals on: stop PgBouncer itself, by its pid.
      if (child.exitCode === null) {
        const pid = Number(
          readFileSync(join(dir, 'pgbouncer.pid'), 'utf8').trim(),
        );
        if (pid > 0) process.kill(pid, 'SIGINT');
        else child.kill('SIGINT');
        await Promise.race([
          exited,
          new Promise((resolve) => setTimeout(resolve, 10_000)),
        ]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
