import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../app/built-app';
import { eventually } from '../app/eventually';

export interface HaproxyServer {
  name: string;
  /** Where connections go, on 127.0.0.1. */
  port: number;
  /** Where its HTTP check is asked, on 127.0.0.1 (Patroni's REST API). */
  checkPort: number;
}

export interface Haproxy {
  port: number;
  /** `databaseUrl` (on any of the servers), reached through HAProxy instead. */
  url(databaseUrl: string): string;
  /** The servers HAProxy sends connections to now: those whose last checks passed. */
  serversUp(): Promise<string[]>;
  /** What HAProxy logged: each server going down and up, and why. */
  output(): string;
  stop(): Promise<void>;
}

const BINARY = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((path) =>
  existsSync(path),
);

/**
 * Debian's HAProxy in front of the nodes of a cluster, as Patroni's documentation sets it up: TCP,
 * each server health-checked over HTTP at `checkPath` (Patroni's `/primary` answers 200 on the
 * primary only), so connections go to whichever node is the primary now. A server that fails its
 * check has its sessions cut (`on-marked-down shutdown-sessions`): no client stays on an old
 * primary. Checked every `checkEveryMs`; down after two failed checks, up after one good one.
 */
export async function startHaproxy(
  servers: HaproxyServer[],
  {
    checkPath = '/primary',
    checkEveryMs = 250,
  }: { checkPath?: string; checkEveryMs?: number } = {},
): Promise<Haproxy> {
  if (!BINARY)
    throw new Error(
      'haproxy not found: install it with "apt-get install -y haproxy" (.ci/run does)',
    );
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'haproxy-'));
  const config = join(dir, 'haproxy.cfg');
  const socket = join(dir, 'stats.sock');
  writeFileSync(
    config,
    [
      'global',
      '  maxconn 2000',
      // Where serversUp() asks for each server's state.
      `  stats socket ${socket} mode 600 level user`,
      'defaults',
      '  mode tcp',
      '  timeout connect 1s',
      // Pooled connections sit idle between requests: the services close them after 30 s idle.
      '  timeout client 30m',
      '  timeout server 30m',
      '  timeout check 1s',
      'listen primary',
      `  bind 127.0.0.1:${port}`,
      // OPTIONS, as Patroni's documentation has it: the status without a body to read.
      '  option httpchk',
      `  http-check send meth OPTIONS uri ${checkPath}`,
      '  http-check expect status 200',
      `  default-server inter ${checkEveryMs}ms fall 2 rise 1 on-marked-down shutdown-sessions`,
      ...servers.map(
        (server) =>
          `  server ${server.name} 127.0.0.1:${server.port} check port ${server.checkPort}`,
      ),
      '',
    ].join('\n'),
  );
  execFileSync(BINARY, ['-c', '-q', '-f', config]);
  // -db: in the foreground, its warnings (servers down and up) on stderr.
  const child: ChildProcess = spawn(BINARY, ['-db', '-f', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await eventually(
      () => {
        if (child.exitCode !== null)
          throw new Error(`haproxy exited at start:\n${output}`);
        return new Promise<boolean>((resolve) => {
          const socket = createConnection({ host: '127.0.0.1', port });
          socket.once('connect', () => {
            socket.destroy();
            resolve(true);
          });
          socket.once('error', () => resolve(false));
        });
      },
      Boolean,
      'HAProxy to listen',
      { limitMs: 10_000, everyMs: 50 },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    port,
    url(databaseUrl) {
      const through = new URL(databaseUrl);
      through.hostname = '127.0.0.1';
      through.port = String(port);
      return through.toString();
    },
    serversUp: async () => {
      const csv = await ask(socket, 'show stat');
      // CSV with a header: "# pxname,svname,...,status,..."; a row per server, and the
      // frontend's and backend's own.
      const [header = '', ...rows] = csv.trim().split('\n');
      const columns = header.replace(/^# /, '').split(',');
      const name = columns.indexOf('svname');
      const status = columns.indexOf('status');
      return rows
        .map((row) => row.split(','))
        .filter(
          (fields) =>
            !['FRONTEND', 'BACKEND'].includes(fields[name]) &&
            // "UP 1/2" is up still, its last check failed: it takes connections until the next.
            fields[status].startsWith('UP'),
        )
        .map((fields) => fields[name]);
    },
    output: () => output,
    stop,
  };
}

/** Sends one command to HAProxy's stats socket; resolves with all it answers. */
function ask(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const connection = createConnection(socket, () =>
      connection.end(`${command}\n`),
    );
    connection.setEncoding('utf8');
    connection.on('data', (chunk: string) => (answer += chunk));
    connection.once('end', () => resolve(answer));
    connection.once('error', reject);
  });
}
