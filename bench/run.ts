// `npm run bench`: this project's built apps against a minimal NestJS port of the seed and a bare
// node:http pair, side by side on loopback, alternating round by round. See the README's
// "Performance" section. `-- --quick` is the smoke run CI keeps working; it asserts nothing.
import autocannon from 'autocannon';
import { Client } from 'pg';
import { ChildProcess, spawn } from 'node:child_process';
import {
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = join(__dirname, '..', '..', '..');
/** `--name` or `--name=value` from the command line. */
const option = (name: string): string | true | undefined => {
  const found = process.argv.find(
    (arg) => arg === `--${name}` || arg.startsWith(`--${name}=`),
  );
  return found?.includes('=')
    ? found.slice(found.indexOf('=') + 1)
    : found && true;
};
const quick = option('quick') === true;
/**
 * Other builds run beside this one, for before/after figures: `--baseline=<dist>` (named
 * `baseline`) or `--baseline=<name>=<dist>`, as often as needed. A dist/ built from another
 * commit runs with this checkout's node_modules.
 */
const baselines = process.argv
  .filter((arg) => arg.startsWith('--baseline='))
  .map((arg) => arg.slice('--baseline='.length))
  .map((value) => {
    const [name, dist] = value.includes('=')
      ? value.split('=')
      : ['baseline', value];
    return { name, dist };
  });
/** Subsets, for a quicker look while working: `--only=project,baseline --routes=get-user`. */
const only = String(option('only') ?? '')
  .split(',')
  .filter(Boolean);
const routesWanted = String(option('routes') ?? '')
  .split(',')
  .filter(Boolean);
// Baselines only add rows, so a run with them still writes the full report.
const partial =
  process.argv.filter((arg) => !arg.startsWith('--baseline=')).length >
  (quick ? 3 : 2);
const settings = {
  connections: 32,
  durationS: Number(option('duration') ?? (quick ? 1 : 5)),
  rounds: Number(option('rounds') ?? (quick ? 1 : 3)),
  startRounds: Number(option('start-rounds') ?? (quick ? 1 : 5)),
  users: quick ? 100 : 1000,
  orders: quick ? 1000 : 10_000,
};

interface Implementation {
  key: string;
  name: string;
  /** The command of one app of the pair, and its environment. */
  command(
    app: App,
    port: number,
    usersUrl: string,
  ): { args: string[]; env: NodeJS.ProcessEnv };
}

type App = 'users' | 'orders';

const logDir = mkdtempSync(join(tmpdir(), 'bench-'));

/** Set by startDatabases, before the PostgreSQL implementation starts. */
const databaseUrls: Record<App, string> = { users: '', orders: '' };

/** A throwaway cluster with a database per app, from the machine's PostgreSQL binaries. */
async function startDatabases(): Promise<() => Promise<void>> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startCluster, databaseUrl } = require(
    join(ROOT, 'scripts', 'postgres-cluster.cjs'),
  );
  const cluster = await startCluster();
  const client = new Client({ connectionString: cluster.url });
  await client.connect();
  for (const app of ['users', 'orders'] as const) {
    await client.query(`create database ${app}`);
    databaseUrls[app] = databaseUrl(cluster.url, app);
  }
  await client.end();
  return () => cluster.stop();
}

const ALL_IMPLEMENTATIONS: Implementation[] = [
  {
    key: 'project',
    name: 'project',
    // Production defaults: JSON logs at info (to a file), tracing, metrics, resilience, helmet.
    command: (app, port, usersUrl) => ({
      args: [join(ROOT, 'dist', 'apps', app, 'main.js')],
      env: {
        NODE_ENV: 'production',
        [app === 'users' ? 'USERS_PORT' : 'ORDERS_PORT']: String(port),
        USERS_SERVICE_URL: usersUrl,
      },
    }),
  },
  {
    key: 'postgres',
    name: 'project on PostgreSQL',
    // The same build and defaults, each app on its own database of a local throwaway cluster.
    command: (app, port, usersUrl) => ({
      args: [join(ROOT, 'dist', 'apps', app, 'main.js')],
      env: {
        ...ALL_IMPLEMENTATIONS[0].command(app, port, usersUrl).env,
        DATABASE_URL: databaseUrls[app],
      },
    }),
  },
  {
    key: 'minimal',
    name: 'minimal Nest',
    command: (app, port, usersUrl) => ({
      args: [join(ROOT, 'dist', 'bench', 'bench', 'minimal', 'main.js'), app],
      env: { PORT: String(port), USERS_SERVICE_URL: usersUrl },
    }),
  },
  {
    key: 'bare',
    name: 'bare node:http',
    command: (_app, port, usersUrl) => ({
      args: [join(ROOT, 'dist', 'bench', 'bench', 'bare', 'main.js')],
      env: { PORT: String(port), USERS_SERVICE_URL: usersUrl },
    }),
  },
];
for (const { name, dist } of baselines) {
  ALL_IMPLEMENTATIONS.push({
    key: name,
    name,
    command: (app, port, usersUrl) => ({
      args: [join(dist, 'apps', app, 'main.js')],
      env: {
        ...ALL_IMPLEMENTATIONS[0].command(app, port, usersUrl).env,
        NODE_PATH: join(ROOT, 'node_modules'),
      },
    }),
  });
}
const IMPLEMENTATIONS = ALL_IMPLEMENTATIONS.filter(
  (impl) => only.length === 0 || only.includes(impl.key),
);

interface Running {
  child: ChildProcess;
  url: string;
  readyMs: number;
}

const children = new Set<ChildProcess>();
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => process.exit(130));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts one app and measures the time from spawn to its first 200 on /health/ready. */
async function start(
  impl: Implementation,
  app: App,
  usersUrl = '',
): Promise<Running> {
  const port = await freePort();
  const { args, env } = impl.command(app, port, usersUrl);
  const log = openSync(
    join(logDir, `${impl.name.replace(/\W+/g, '-')}-${app}.log`),
    'a',
  );
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', log, log],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`${impl.name} ${app} exited; see ${logDir}`);
    const ok = await fetch(`${url}/health/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return { child, url, readyMs: performance.now() - started };
    if (performance.now() - started > 30_000)
      throw new Error(`${impl.name} ${app} not ready`);
    await sleep(5);
  }
}

async function stop({ child }: Running): Promise<void> {
  // A killed process has a signal, not an exit code; either way it is gone.
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

function rssMb({ child }: Running): number {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2
    ? sorted[middle]
    : (sorted[middle - 1] + sorted[middle]) / 2;
};

const randomId = (max: number) => 1 + Math.floor(Math.random() * max);
let unique = 0;

interface Route {
  key: string;
  name: string;
  app: App;
  request(): { method: 'GET' | 'POST'; path: string; body?: string };
}

const json = (value: object) => JSON.stringify(value);
const ALL_ROUTES: Route[] = [
  {
    key: 'get-user',
    name: 'GET /users/:id',
    app: 'users',
    request: () => ({
      method: 'GET',
      path: `/users/${randomId(settings.users + 2)}`,
    }),
  },
  {
    key: 'get-order',
    name: 'GET /orders/:id',
    app: 'orders',
    request: () => ({
      method: 'GET',
      path: `/orders/${randomId(settings.orders + 2)}`,
    }),
  },
  {
    key: 'post-user',
    name: 'POST /users',
    app: 'users',
    request: () => {
      const n = `${process.pid}-${++unique}`;
      return {
        method: 'POST',
        path: '/users',
        body: json({ name: `User ${n}`, email: `user-${n}@example.com` }),
      };
    },
  },
  {
    key: 'post-order',
    name: 'POST /orders',
    app: 'orders',
    request: () => ({
      method: 'POST',
      path: '/orders',
      body: json({
        user_id: randomId(settings.users + 2),
        product: `Product ${++unique}`,
      }),
    }),
  },
];
const ROUTES = ALL_ROUTES.filter(
  (route) => routesWanted.length === 0 || routesWanted.includes(route.key),
);
const [, GET_ORDER, POST_USER, POST_ORDER] = ALL_ROUTES;

interface Sample {
  rps: number;
  /** CPU time of both processes of the pair per request: less noisy than req/s on a shared box. */
  cpuUs: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** Requests answered in all. */
  total: number;
}

/** User plus system CPU time a process has used, in ms; none once it is gone (a stopped users). */
function cpuMs({ child }: Running): number {
  if (child.exitCode !== null || child.signalCode !== null) return 0;
  const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8')
    .split(') ')[1]
    .split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100;

async function load(
  pair: Pair,
  route: Route,
  options: { durationS?: number; amount?: number },
): Promise<Sample> {
  const cpuBefore = cpuMs(pair.users) + cpuMs(pair.orders);
  const result = await autocannon({
    url: pair[route.app].url,
    connections: settings.connections,
    ...(options.amount
      ? { amount: options.amount }
      : { duration: options.durationS }),
    requests: [
      {
        setupRequest: (request) => {
          const { method, path, body } = route.request();
          return {
            ...request,
            method,
            path,
            body,
            headers: body ? { 'content-type': 'application/json' } : {},
          };
        },
      },
    ],
  });
  const cpuUsed = cpuMs(pair.users) + cpuMs(pair.orders) - cpuBefore;
  return {
    rps: result.requests.average,
    cpuUs: (cpuUsed * 1000) / Math.max(1, result.requests.total),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    total: result.requests.total,
  };
}

interface Pair {
  impl: Implementation;
  users: Running;
  orders: Running;
}

async function startPair(impl: Implementation): Promise<Pair> {
  const users = await start(impl, 'users');
  const orders = await start(impl, 'orders', users.url);
  return { impl, users, orders };
}

/** Each round starts the implementations in another order, so no one always goes first. */
const rotated = <T>(items: T[], round: number): T[] =>
  items.map((_, i) => items[(i + round) % items.length]);

async function main(): Promise<void> {
  const stopDatabases = IMPLEMENTATIONS.some((impl) => impl.key === 'postgres')
    ? await startDatabases()
    : async () => undefined;
  const startup = new Map<string, { users: number[]; orders: number[] }>();
  for (let round = 0; round < settings.startRounds; round++) {
    for (const impl of rotated(IMPLEMENTATIONS, round)) {
      const pair = await startPair(impl);
      const times = startup.get(impl.name) ?? { users: [], orders: [] };
      times.users.push(pair.users.readyMs);
      times.orders.push(pair.orders.readyMs);
      startup.set(impl.name, times);
      await stop(pair.orders);
      await stop(pair.users);
    }
  }

  const pairs: Pair[] = [];
  for (const impl of IMPLEMENTATIONS) pairs.push(await startPair(impl));
  await sleep(1000);
  const idle = new Map(
    pairs.map((p) => [p.impl.name, [rssMb(p.users), rssMb(p.orders)]]),
  );

  console.log(
    `Data set: ${settings.users} users and ${settings.orders} orders through each API...`,
  );
  for (const pair of pairs) {
    const users = await load(pair, POST_USER, { amount: settings.users });
    const orders = await load(pair, POST_ORDER, { amount: settings.orders });
    if (users.non2xx + users.errors + orders.non2xx + orders.errors > 0) {
      throw new Error(`${pair.impl.name}: the data set could not be created`);
    }
  }

  const samples = new Map<string, Sample[]>();
  for (const route of ROUTES) {
    for (const pair of pairs) await load(pair, route, { durationS: 1 });
    for (let round = 0; round < settings.rounds; round++) {
      for (const pair of rotated(pairs, round)) {
        const sample = await load(pair, route, {
          durationS: settings.durationS,
        });
        const key = `${route.name}|${pair.impl.name}`;
        samples.set(key, [...(samples.get(key) ?? []), sample]);
        console.log(
          `${route.name.padEnd(16)} round ${round + 1} ${pair.impl.name.padEnd(16)} ` +
            `${Math.round(sample.rps)} req/s, p99 ${sample.p99} ms, ${Math.round(sample.cpuUs)} µs CPU/req`,
        );
      }
    }
  }
  const after = new Map(
    pairs.map((p) => [p.impl.name, [rssMb(p.users), rssMb(p.orders)]]),
  );
  // Last, since it stops users: GET /orders/:id through a users outage, after a warm-up that
  // lets each implementation do whatever it does with what it has seen of users.
  const outage = new Map<string, Sample>();
  if (ROUTES.includes(GET_ORDER)) {
    for (const pair of pairs) {
      await load(pair, GET_ORDER, { durationS: 2 });
      await stop(pair.users);
      const sample = await load(pair, GET_ORDER, {
        durationS: settings.durationS,
      });
      outage.set(pair.impl.name, sample);
      console.log(
        `GET /orders/:id, users stopped, ${pair.impl.name.padEnd(16)} ${Math.round(sample.rps)} req/s, ` +
          `${Math.round((100 * (sample.non2xx + sample.errors)) / Math.max(1, sample.total + sample.errors))} % failed`,
      );
    }
  }
  for (const pair of pairs) {
    await stop(pair.orders);
    await stop(pair.users);
  }
  rmSync(logDir, { recursive: true, force: true });
  await stopDatabases();

  const report = render(samples, startup, idle, after, outage);
  console.log(`\n${report}`);
  if (!quick && !partial)
    writeFileSync(join(ROOT, 'bench', 'RESULTS.md'), report);
}

function render(
  samples: Map<string, Sample[]>,
  startup: Map<string, { users: number[]; orders: number[] }>,
  idle: Map<string, number[]>,
  after: Map<string, number[]>,
  outage: Map<string, Sample>,
): string {
  const named = (key: string) =>
    IMPLEMENTATIONS.find((impl) => impl.key === key)?.name;
  const project = named('project');
  const references = ['minimal', 'bare']
    .map(named)
    .filter((name): name is string => name !== undefined);
  const fixed = (n: number, digits = 0) =>
    n.toLocaleString('en-US', {
      maximumFractionDigits: digits,
      minimumFractionDigits: digits,
    });
  /** The median of the per-round ratios: each round's pair ran back to back. */
  const ratio = (route: string, of: string, to: string) =>
    median(
      samples
        .get(`${route}|${of}`)!
        .map((sample, i) => sample.rps / samples.get(`${route}|${to}`)![i].rps),
    );
  /** A figure's median over the rounds of one route and implementation. */
  const medianOf = (route: string, impl: string, pick: (s: Sample) => number) =>
    median(samples.get(`${route}|${impl}`)!.map(pick));
  const lines = [
    `# Benchmark results`,
    '',
    `${new Date().toISOString().slice(0, 10)} · ${cpus().length} cores (${cpus()[0]?.model.trim()}) · ` +
      `Node ${process.version} · autocannon, ${settings.connections} connections, ` +
      `${settings.rounds} rounds of ${settings.durationS} s per route and implementation, alternated · ` +
      `${settings.users} users and ${settings.orders} orders created through each API first; ids spread at random.`,
    '',
    `Produced by \`npm run bench\`. Figures are medians of the rounds; ratios are the medians of each round's ratio.`,
    '',
    `| route | implementation | req/s | p50 ms | p99 ms | CPU µs/req | errors | non-2xx | ${references.map((r) => `vs ${r}`).join(' | ')} |`,
    `|---|---|--:|--:|--:|--:|--:|--:|${references.map(() => '--:|').join('')}`,
  ];
  for (const route of ROUTES) {
    for (const impl of IMPLEMENTATIONS) {
      const runs = samples.get(`${route.name}|${impl.name}`)!;
      const sum = (pick: (s: Sample) => number) =>
        runs.reduce((n, s) => n + pick(s), 0);
      const of = (pick: (s: Sample) => number) =>
        fixed(medianOf(route.name, impl.name, pick));
      const ratios = references.map((reference) =>
        reference === impl.name
          ? ''
          : `${fixed(ratio(route.name, impl.name, reference), 2)}×`,
      );
      lines.push(
        `| \`${route.name}\` | ${impl.name} | ${of((s) => s.rps)} | ` +
          `${of((s) => s.p50)} | ${of((s) => s.p99)} | ${of((s) => s.cpuUs)} | ` +
          `${sum((s) => s.errors)} | ${sum((s) => s.non2xx)} | ${ratios.join(' | ')} |`,
      );
    }
  }
  lines.push(
    '',
    '| implementation | users: start to ready | orders: start to ready | users RSS idle / after load | orders RSS idle / after load |',
    '|---|--:|--:|--:|--:|',
  );
  for (const impl of IMPLEMENTATIONS) {
    const times = startup.get(impl.name)!;
    const [usersIdle, ordersIdle] = idle.get(impl.name)!;
    const [usersAfter, ordersAfter] = after.get(impl.name)!;
    lines.push(
      `| ${impl.name} | ${fixed(median(times.users))} ms | ${fixed(median(times.orders))} ms | ` +
        `${fixed(usersIdle)} / ${fixed(usersAfter)} MB | ${fixed(ordersIdle)} / ${fixed(ordersAfter)} MB |`,
    );
  }
  lines.push('', `Start to ready: median of ${settings.startRounds} starts.`);
  if (project) {
    for (const reference of references) {
      const [p, r] = [project, reference].map((name) => idle.get(name)!);
      lines.push(
        `Idle RSS, ${project} / ${reference}: users ${fixed(p[0] / r[0], 2)}×, orders ${fixed(p[1] / r[1], 2)}×.`,
      );
    }
  }
  const onPostgres = named('postgres');
  if (project && onPostgres) {
    lines.push(
      `Throughput on PostgreSQL / in memory: ${ROUTES.map(
        (route) =>
          `\`${route.name}\` ${fixed(ratio(route.name, onPostgres, project), 2)}×`,
      ).join(', ')}.`,
    );
  }
  for (const { name } of baselines) {
    if (!project || !named(name)) continue;
    lines.push(
      `Throughput, ${project} / ${name}: ${ROUTES.map(
        (route) =>
          `\`${route.name}\` ${fixed(ratio(route.name, project, name), 2)}×`,
      ).join(', ')}; CPU per request: ${ROUTES.map((route) => {
        const cpu = (impl: string) =>
          medianOf(route.name, impl, (s) => s.cpuUs);
        return `${fixed(cpu(project) / cpu(name), 2)}×`;
      }).join(', ')}.`,
    );
  }
  if (outage.size > 0) {
    lines.push(
      '',
      `\`GET /orders/:id\` with users stopped, after ${2} s of the same load (one run of ${settings.durationS} s each):`,
      '',
      '| implementation | req/s | answered 2xx | non-2xx | errors |',
      '|---|--:|--:|--:|--:|',
    );
    for (const impl of IMPLEMENTATIONS) {
      const sample = outage.get(impl.name)!;
      // autocannon counts the answers; connection errors and timeouts have none.
      const share = (n: number) =>
        `${fixed((100 * n) / Math.max(1, sample.total + sample.errors), 1)} %`;
      lines.push(
        `| ${impl.name} | ${fixed(sample.rps)} | ${share(sample.total - sample.non2xx)} | ` +
          `${share(sample.non2xx)} | ${share(sample.errors)} |`,
      );
    }
  }
  lines.push('');
  return lines.join('\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
