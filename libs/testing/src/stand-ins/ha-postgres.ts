import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { freePort } from '../app/built-app';
import { eventually } from '../app/eventually';

const PASSWORD = 'local-only';

/** Debian's binaries; fails with what to install when one is missing. */
function binaries(): { patroni: string; etcd: string; pgBin: string } {
  const patroni = ['/usr/bin/patroni', '/usr/local/bin/patroni'].find((path) =>
    existsSync(path),
  );
  const etcd = ['/usr/bin/etcd', '/usr/local/bin/etcd'].find((path) =>
    existsSync(path),
  );
  const pgBin =
    process.env.PG_BIN ??
    [17, 16, 15, 14, 13]
      .map((version) => `/usr/lib/postgresql/${version}/bin`)
      .find((dir) => existsSync(join(dir, 'initdb')));
  if (patroni && etcd && pgBin) return { patroni, etcd, pgBin };
  const missing = [
    !patroni && 'patroni',
    !etcd && 'etcd-server',
    !pgBin && 'postgresql',
  ].filter(Boolean);
  throw new Error(
    `${missing.join(', ')} not found: install with "apt-get install -y ${missing.join(' ')}" (.ci/run does)`,
  );
}

/**
 * How soon the standby takes over a primary that stopped answering: the leader key lives `ttl`
 * seconds unless renewed; each Patroni looks every `loop_wait`. Patroni wants
 * loop_wait + 2 * retry_timeout <= ttl.
 */
const LEADER = { ttl: 10, loop_wait: 2, retry_timeout: 4 };

export interface HaNode {
  name: string;
  /** PostgreSQL's port on 127.0.0.1. */
  port: number;
  /** Patroni's REST API on 127.0.0.1: `GET /primary` is 200 on the primary only. */
  apiPort: number;
  /** The superuser's URL to this node itself, database `postgres`. */
  url: string;
}

export type HaRole = 'primary' | 'standby' | 'down';

export interface HaPostgres {
  nodes: HaNode[];
  /**
   * Waits until a node is the primary and another streams from it as its synchronous standby:
   * a commit the primary acknowledges is on both.
   */
  ready(limitMs?: number): Promise<{ primary: HaNode; standby: HaNode }>;
  /** What PostgreSQL on the node says it is now: writable, in recovery, or not answering. */
  role(node: HaNode): Promise<HaRole>;
  /**
   * Resolves with `Date.now()` when the node's PostgreSQL leaves recovery (its promotion is
   * done), asked every 20 ms over one held connection: a session on a standby lives through its
   * promotion, so no connection's setup blurs the moment.
   */
  promoted(node: HaNode, limitMs?: number): Promise<number>;
  /**
   * SIGKILLs the node's Patroni and every process of its PostgreSQL at once, as when its machine
   * dies. Resolves with `Date.now()` at the kill.
   */
  crash(node: HaNode): Promise<number>;
  /** Starts a crashed node's Patroni again, on its data: it rejoins as a standby of the leader. */
  revive(node: HaNode): void;
  /** What etcd and each Patroni (with its PostgreSQL) wrote, to tell why something failed. */
  output(): string;
  /** Kills every process it started and deletes its data. */
  stop(): Promise<void>;
}

interface Member {
  node: HaNode;
  dir: string;
  dataDir: string;
  config: string;
  patroni?: ChildProcess;
  exited?: Promise<unknown>;
  output: string;
}

/**
 * A PostgreSQL cluster that fails over by itself, from Debian's own HA tooling, on loopback:
 * one etcd member (the store the nodes elect their leader in) and `nodes` PostgreSQL servers,
 * each run by Patroni, in synchronous mode (a commit waits for the synchronous standby; only it
 * may be promoted, so nothing acknowledged is lost). As root, Patroni and PostgreSQL run as
 * `postgres`. Nothing is assumed running: every process is started here and killed by `stop`.
 */
export async function startHaPostgres({
  nodes: count = 2,
}: { nodes?: number } = {}): Promise<HaPostgres> {
  const { patroni: patroniBin, etcd: etcdBin, pgBin } = binaries();
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot
    ? {
        uid: Number(execFileSync('id', ['-u', 'postgres']).toString()),
        gid: Number(execFileSync('id', ['-g', 'postgres']).toString()),
      }
    : undefined;
  const root = mkdtempSync(join(tmpdir(), 'ha-postgres-'));
  // `postgres` must reach the nodes' directories below it.
  chmodSync(root, 0o755);

  const [etcdPort, etcdPeerPort] = [await freePort(), await freePort()];
  let etcdOutput = '';
  const etcd = spawn(
    etcdBin,
    [
      '--name=ha',
      `--data-dir=${join(root, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=ha=http://127.0.0.1:${etcdPeerPort}`,
      '--logger=zap',
      '--log-level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  etcd.stdout?.on('data', (chunk: Buffer) => (etcdOutput += chunk));
  etcd.stderr?.on('data', (chunk: Buffer) => (etcdOutput += chunk));
  const etcdExited = new Promise((resolve) => etcd.once('exit', resolve));

  const scope = `ha-${process.pid}-${Date.now()}`;
  const members: Member[] = [];
  for (let i = 1; i <= count; i++) {
    const name = `node${i}`;
    const [port, apiPort] = [await freePort(), await freePort()];
    const dir = join(root, name);
    mkdirSync(dir, { mode: 0o700 });
    if (owner) chownSync(dir, owner.uid, owner.gid);
    const dataDir = join(dir, 'data');
    const config = join(root, `${name}.yml`);
    // YAML is a superset of JSON: Patroni reads this as it reads its YAML.
    writeFileSync(
      config,
      JSON.stringify({
        scope,
        namespace: '/ha-postgres/',
        name,
        log: { level: 'WARNING' },
        restapi: {
          listen: `127.0.0.1:${apiPort}`,
          connect_address: `127.0.0.1:${apiPort}`,
        },
        etcd3: { hosts: [`127.0.0.1:${etcdPort}`] },
        bootstrap: {
          dcs: {
            ...LEADER,
            synchronous_mode: true,
            postgresql: {
              // The old primary rejoins as a standby even when its WAL went past the promotion.
              use_pg_rewind: true,
              parameters: {
                max_connections: 200,
                // Throwaway data: a crash here is a process killed, never the machine, so the
                // page cache keeps what a flush would have. synchronous_commit stays on: a
                // commit still waits for the standby.
                fsync: 'off',
              },
            },
          },
          initdb: [
            { encoding: 'UTF8' },
            { locale: 'C' },
            { 'auth-host': 'scram-sha-256' },
            { 'auth-local': 'trust' },
          ],
        },
        postgresql: {
          listen: `127.0.0.1:${port}`,
          connect_address: `127.0.0.1:${port}`,
          data_dir: dataDir,
          bin_dir: pgBin,
          pgpass: join(dir, 'pgpass'),
          authentication: {
            superuser: { username: 'postgres', password: PASSWORD },
            replication: { username: 'replicator', password: PASSWORD },
            rewind: { username: 'postgres', password: PASSWORD },
          },
          pg_hba: [
            'local all all trust',
            'host replication replicator 127.0.0.1/32 scram-sha-256',
            'host all all 127.0.0.1/32 scram-sha-256',
          ],
          parameters: { unix_socket_directories: dir },
          // When a rewind cannot bring the old primary back, a fresh copy of the new one does.
          remove_data_directory_on_rewind_failure: true,
          remove_data_directory_on_diverged_timelines: true,
        },
      }),
      { mode: 0o644 },
    );
    members.push({
      node: {
        name,
        port,
        apiPort,
        url: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
      },
      dir,
      dataDir,
      config,
      output: '',
    });
  }

  const startPatroni = (member: Member) => {
    const patroni = spawn(patroniBin, [member.config], {
      cwd: member.dir,
      // PostgreSQL refuses to run as root; Patroni, and the PostgreSQL it starts, run as postgres.
      ...owner,
      env: { PATH: process.env.PATH, HOME: member.dir, LANG: 'C.UTF-8' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      // The last 200 kB is plenty to tell why; a long run must not grow it forever.
      member.output = (member.output + chunk.toString()).slice(-200_000);
    };
    patroni.stdout?.on('data', keep);
    patroni.stderr?.on('data', keep);
    member.patroni = patroni;
    member.exited = new Promise((resolve) => patroni.once('exit', resolve));
  };

  const role = async (node: HaNode): Promise<HaRole> => {
    const client = new Client({
      connectionString: node.url,
      connectionTimeoutMillis: 1000,
      query_timeout: 2000,
    });
    try {
      await client.connect();
      const { rows } = await client.query<{ recovery: boolean }>(
        'select pg_is_in_recovery() as recovery',
      );
      return rows[0]?.recovery ? 'standby' : 'primary';
    } catch {
      return 'down';
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  const promoted = async (node: HaNode, limitMs = 120_000) => {
    const deadline = Date.now() + limitMs;
    let client: Client | undefined;
    try {
      for (;;) {
        if (Date.now() > deadline)
          throw new Error(
            `${node.name} was not promoted within ${limitMs} ms:\n${output()}`,
          );
        try {
          if (!client) {
            client = new Client({
              connectionString: node.url,
              connectionTimeoutMillis: 1000,
              query_timeout: 2000,
            });
            // A connection lost between two questions must not end the process: asked again.
            client.on('error', () => undefined);
            await client.connect();
          }
          const { rows } = await client.query<{ recovery: boolean }>(
            'select pg_is_in_recovery() as recovery',
          );
          if (rows[0]?.recovery === false) return Date.now();
        } catch {
          await client?.end().catch(() => undefined);
          client = undefined;
        }
        await sleep(20);
      }
    } finally {
      await client?.end().catch(() => undefined);
    }
  };

  const output = () =>
    [
      `--- etcd\n${etcdOutput}`,
      ...members.map(({ node, output }) => `--- ${node.name}\n${output}`),
    ].join('\n');

  // PostgreSQL outlives a killed Patroni (it runs detached from it): its processes are found
  // from its pid file, the postmaster first, then every process whose parent it is. A pid file
  // left by a killed postmaster may name a process that has since taken its number: only a
  // postmaster started on this data directory is taken for it.
  const postgresProcesses = (member: Member): number[] => {
    let postmaster: number;
    let command: string[];
    try {
      postmaster = Number(
        readFileSync(join(member.dataDir, 'postmaster.pid'), 'utf8').split(
          '\n',
        )[0],
      );
      command = readFileSync(`/proc/${postmaster}/cmdline`, 'utf8').split('\0');
    } catch {
      return [];
    }
    if (!command.includes(member.dataDir)) return [];
    return [postmaster, ...childrenOf(postmaster)];
  };

  const kill = async (member: Member) => {
    const pids = postgresProcesses(member);
    member.patroni?.kill('SIGKILL');
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    await member.exited;
    member.patroni = undefined;
  };

  let stopped = false;
  // If the test process ends without stop() (a crash, a forced exit), nothing is left running.
  const killNow = () => {
    for (const member of members) {
      for (const pid of [
        ...(member.patroni?.pid ? [member.patroni.pid] : []),
        ...postgresProcesses(member),
      ])
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
    }
    etcd.kill('SIGKILL');
  };
  process.once('exit', killNow);

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', killNow);
    await Promise.all(members.map(kill));
    etcd.kill('SIGKILL');
    await etcdExited;
    rmSync(root, { recursive: true, force: true });
  };

  const ready = async (limitMs = 120_000) => {
    const found = await eventually(
      async () => {
        if (etcd.exitCode !== null)
          throw new Error(`etcd exited:\n${output()}`);
        const roles = await Promise.all(
          members.map(async (member) => ({
            member,
            role: await role(member.node),
          })),
        );
        const primary = roles.find(({ role }) => role === 'primary')?.member;
        if (!primary) return undefined;
        // The primary's own word: which standby streams to it, and synchronously.
        const client = new Client({
          connectionString: primary.node.url,
          connectionTimeoutMillis: 1000,
          query_timeout: 2000,
        });
        try {
          await client.connect();
          const { rows } = await client.query<{ name: string }>(
            "select application_name as name from pg_stat_replication where state = 'streaming' and sync_state = 'sync'",
          );
          const standby = members.find(
            (member) => member.node.name === rows[0]?.name,
          );
          return standby && { primary: primary.node, standby: standby.node };
        } catch {
          return undefined;
        } finally {
          await client.end().catch(() => undefined);
        }
      },
      Boolean,
      'a primary with a synchronous standby',
      { limitMs, everyMs: 250 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${output()}`);
    });
    if (!found) throw new Error('no primary with a synchronous standby');
    return found;
  };

  try {
    await eventually(
      () =>
        fetch(`http://127.0.0.1:${etcdPort}/health`)
          .then((response) => response.ok)
          .catch(() => false),
      Boolean,
      'etcd to answer',
      { limitMs: 30_000, everyMs: 100 },
    );
    // The first node initializes the cluster and leads; the others then copy it and follow, so
    // which node is the primary is known.
    startPatroni(members[0]);
    await eventually(
      () => role(members[0].node),
      (now) => now === 'primary',
      `${members[0].node.name} to initialize the cluster`,
      { limitMs: 90_000, everyMs: 250 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${output()}`);
    });
    members.slice(1).forEach(startPatroni);
    await ready();
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    nodes: members.map(({ node }) => node),
    ready,
    role,
    promoted,
    async crash(node) {
      const member = members.find((one) => one.node === node);
      if (!member)
        throw new Error(`${node.name} is not a node of this cluster`);
      const at = Date.now();
      await kill(member);
      return at;
    },
    revive(node) {
      const member = members.find((one) => one.node === node);
      if (!member)
        throw new Error(`${node.name} is not a node of this cluster`);
      if (member.patroni) throw new Error(`${node.name} is running`);
      startPatroni(member);
    },
    output,
    stop,
  };
}

/** The processes whose parent is `pid`, from /proc. */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses; what follows the last
      // ")" does not.
      const parent = Number(
        stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1],
      );
      if (parent === pid) children.push(Number(entry));
    } catch {
      // Ended while we looked.
    }
  }
  return children;
}
