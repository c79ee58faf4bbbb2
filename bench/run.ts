// `npm run bench`: this project's built apps against yardsticks, side by side on loopback,
// alternating round by round. In memory: a minimal NestJS port of the seed, the featured port
// (what a team would write from the libraries' docs, with the same kind of features) and a bare
// node:http pair. On PostgreSQL, on a durable throwaway cluster: the project against the
// featured port on TypeORM, with what the database saw. See docs/performance.md.
// `-- --quick` is the smoke run CI keeps working; it asserts nothing.
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
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DatabaseSample, DatabaseView } from './database-view';
import { freePort, median } from './helpers';
import { instructionsSection } from './instructions';

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
const listOption = (name: string): string[] =>
  String(option(name) ?? '')
    .split(',')
    .filter(Boolean);
const quick = option('quick') === true;
/**
 * Other builds run beside this one, for before/after figures: `--baseline=<dist>` (named
 * `baseline`) or `--baseline=<name>=<dist>`, as often as needed. A dist/ built from another
 * commit runs with this checkout's node_modules, in memory and on PostgreSQL.
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
/**
 * Subsets, for a quicker look while working:
 * `--sections=postgres --only=project-postgres,featured-postgres --routes=post-user`; the
 * callgrind section is `--sections=instructions` (see bench/instructions.ts for its options).
 */
const only = listOption('only');
const routesWanted = listOption('routes');
const sectionsWanted = listOption('sections');
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

type App = 'users' | 'orders';

interface Implementation {
  key: string;
  name: string;
  /** On PostgreSQL: the key its databases are named by (`<app>_<database>`). */
  database?: string;
  /** The command of one app of the pair, and its environment. */
  command(
    app: App,
    port: number,
    usersUrl: string,
  ): { args: string[]; env: NodeJS.ProcessEnv };
}

const logDir = mkdtempSync(join(tmpdir(), 'bench-'));

/** Set by startDatabases: the throwaway cluster's superuser URL and postmaster. */
const cluster = { url: '', pid: 0 };
const databaseName = (impl: Implementation, app: App) =>
  `${app}_${impl.database}`;
const databaseUrlOf = (impl: Implementation, app: App) => {
  const url = new URL(cluster.url);
  url.pathname = `/${databaseName(impl, app)}`;
  return url.toString();
};

/**
 * A throwaway cluster with PostgreSQL's durable defaults (fsync, synchronous_commit and
 * full_page_writes on: what a user runs) and pg_stat_statements, and a database per app and
 * implementation.
 */
async function startDatabases(
  implementations: Implementation[],
): Promise<() => Promise<void>> {
  // The cluster script is plain Node, shared with the tests and npm run start:postgres.
  const { startCluster } = require(
    join(ROOT, 'scripts', 'postgres-cluster.cjs'),
  ) as typeof import('../scripts/postgres-cluster.cjs');
  const started = await startCluster({
    durable: true,
    settings: { shared_preload_libraries: 'pg_stat_statements' },
  });
  cluster.url = started.url;
  cluster.pid = readPostmaster(started.dataDir);
  const client = new Client({ connectionString: started.url });
  await client.connect();
  for (const impl of implementations)
    for (const app of ['users', 'orders'] as const)
      await client.query(`create database ${databaseName(impl, app)}`);
  await client.end();
  return () => started.stop();
}

function readPostmaster(dataDir: string): number {
  // The first line of postmaster.pid; as root the cluster runs under runuser, its parent.
  return Number(
    readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0],
  );
}

const project: Implementation = {
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
};
const minimal: Implementation = {
  key: 'minimal',
  name: 'minimal Nest',
  command: (app, port, usersUrl) => ({
    args: [join(ROOT, 'dist', 'bench', 'bench', 'minimal', 'main.js'), app],
    env: { PORT: String(port), USERS_SERVICE_URL: usersUrl },
  }),
};
const featured: Implementation = {
  key: 'featured',
  name: 'featured Nest',
  command: (app, port, usersUrl) => ({
    args: [join(ROOT, 'dist', 'bench', 'bench', 'featured', 'main.js'), app],
    env: {
      NODE_ENV: 'production',
      PORT: String(port),
      USERS_SERVICE_URL: usersUrl,
    },
  }),
};
const bare: Implementation = {
  key: 'bare',
  name: 'bare node:http',
  command: (_app, port, usersUrl) => ({
    args: [join(ROOT, 'dist', 'bench', 'bench', 'bare', 'main.js')],
    env: { PORT: String(port), USERS_SERVICE_URL: usersUrl },
  }),
};
const baselineBuilds: Implementation[] = baselines.map(({ name, dist }) => ({
  key: name,
  name,
  command: (app, port, usersUrl) => ({
    args: [join(dist, 'apps', app, 'main.js')],
    env: {
      ...project.command(app, port, usersUrl).env,
      NODE_PATH: join(ROOT, 'node_modules'),
    },
  }),
}));

/** The same implementation, each app on its own database of the throwaway cluster. */
const onPostgres = (impl: Implementation, name: string): Implementation => ({
  key: `${impl.key}-postgres`,
  name,
  database: impl.key.replace(/\W+/g, '_'),
  command(app, port, usersUrl) {
    const { args, env } = impl.command(app, port, usersUrl);
    return { args, env: { ...env, DATABASE_URL: databaseUrlOf(this, app) } };
  },
});

interface Running {
  child: ChildProcess;
  url: string;
  readyMs: number;
}

const children = new Set<ChildProcess>();
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => process.exit(130));

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

const randomId = (max: number) => 1 + Math.floor(Math.random() * max);
let unique = 0;

interface Route {
  key: string;
  name: string;
  app: App;
  request(): {
    method: 'GET' | 'POST';
    path: string;
    body?: string;
    headers?: Record<string, string>;
  };
  /** Writes: the database's wait events are sampled while it runs. */
  writes: boolean;
}

const json = (value: object) => JSON.stringify(value);
const newUser = () => {
  const n = `${process.pid}-${++unique}`;
  return json({ name: `User ${n}`, email: `user-${n}@example.com` });
};
const getUser: Route = {
  key: 'get-user',
  name: 'GET /users/:id',
  app: 'users',
  writes: false,
  request: () => ({
    method: 'GET',
    path: `/users/${randomId(settings.users + 2)}`,
  }),
};
const getOrder: Route = {
  key: 'get-order',
  name: 'GET /orders/:id',
  app: 'orders',
  writes: false,
  request: () => ({
    method: 'GET',
    path: `/orders/${randomId(settings.orders + 2)}`,
  }),
};
const postUser: Route = {
  key: 'post-user',
  name: 'POST /users',
  app: 'users',
  writes: true,
  request: () => ({ method: 'POST', path: '/users', body: newUser() }),
};
const postOrder: Route = {
  key: 'post-order',
  name: 'POST /orders',
  app: 'orders',
  writes: true,
  request: () => ({
    method: 'POST',
    path: '/orders',
    body: json({
      user_id: randomId(settings.users + 2),
      product: `Product ${++unique}`,
    }),
  }),
};
const postUserKeyed: Route = {
  key: 'post-user-keyed',
  name: 'POST /users, keyed',
  app: 'users',
  writes: true,
  request: () => ({
    method: 'POST',
    path: '/users',
    body: newUser(),
    headers: { 'idempotency-key': `bench-${process.pid}-${++unique}` },
  }),
};
const mixed: Route = {
  key: 'mixed',
  name: 'orders 90 % GET / 10 % POST',
  app: 'orders',
  writes: true,
  request: () =>
    Math.random() < 0.1 ? postOrder.request() : getOrder.request(),
};

interface Section {
  key: 'memory' | 'postgres';
  title: string;
  implementations: Implementation[];
  routes: Route[];
  /** The implementations each row is compared with, by key. */
  references: string[];
}

const featuredOnPostgres = onPostgres(featured, 'featured Nest (TypeORM)');
const ALL_SECTIONS: Section[] = [
  {
    key: 'memory',
    title: 'In memory',
    implementations: [project, minimal, featured, bare, ...baselineBuilds],
    routes: [getUser, getOrder, postUser, postOrder],
    references: [minimal.key, featured.key, bare.key],
  },
  {
    key: 'postgres',
    title: 'On PostgreSQL',
    implementations: [
      onPostgres(project, 'project on PostgreSQL'),
      featuredOnPostgres,
      ...baselineBuilds.map((impl) =>
        onPostgres(impl, `${impl.name} on PostgreSQL`),
      ),
    ],
    routes: [getUser, getOrder, postUser, postOrder, postUserKeyed, mixed],
    references: [featuredOnPostgres.key],
  },
];
const SECTIONS = ALL_SECTIONS.filter(
  (section) =>
    sectionsWanted.length === 0 || sectionsWanted.includes(section.key),
)
  .map((section) => ({
    ...section,
    implementations: section.implementations.filter(
      (impl) => only.length === 0 || only.includes(impl.key),
    ),
    routes: section.routes.filter(
      (route) => routesWanted.length === 0 || routesWanted.includes(route.key),
    ),
  }))
  .filter((section) => section.implementations.length > 0);

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
  database?: DatabaseSample;
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
          const { method, path, body, headers } = route.request();
          return {
            ...request,
            method,
            path,
            body,
            headers: {
              ...(body && { 'content-type': 'application/json' }),
              ...headers,
            },
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

/** A measured run; on PostgreSQL, with what the implementation's databases did meanwhile. */
async function measure(
  pair: Pair,
  route: Route,
  view: DatabaseView | undefined,
): Promise<Sample> {
  const run = () => load(pair, route, { durationS: settings.durationS });
  if (!view || !pair.impl.database) return run();
  const { result, database } = await view.during(
    (['users', 'orders'] as const).map((app) => databaseName(pair.impl, app)),
    run,
  );
  return { ...result, database };
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

interface SectionResult {
  section: Section;
  samples: Map<string, Sample[]>;
  idle: Map<string, number[]>;
  after: Map<string, number[]>;
  outage: Map<string, Sample>;
}

async function runSection(
  section: Section,
  view: DatabaseView | undefined,
): Promise<SectionResult> {
  console.log(`\n${section.title}`);
  const pairs: Pair[] = [];
  for (const impl of section.implementations) pairs.push(await startPair(impl));
  await sleep(1000);
  const idle = new Map(
    pairs.map((p) => [p.impl.name, [rssMb(p.users), rssMb(p.orders)]]),
  );

  console.log(
    `Data set: ${settings.users} users and ${settings.orders} orders through each API...`,
  );
  for (const pair of pairs) {
    const users = await load(pair, postUser, { amount: settings.users });
    const orders = await load(pair, postOrder, { amount: settings.orders });
    if (users.non2xx + users.errors + orders.non2xx + orders.errors > 0) {
      throw new Error(`${pair.impl.name}: the data set could not be created`);
    }
  }

  const samples = new Map<string, Sample[]>();
  for (const route of section.routes) {
    for (const pair of pairs) await load(pair, route, { durationS: 1 });
    for (let round = 0; round < settings.rounds; round++) {
      for (const pair of rotated(pairs, round)) {
        const sample = await measure(pair, route, view);
        const key = `${route.name}|${pair.impl.name}`;
        samples.set(key, [...(samples.get(key) ?? []), sample]);
        console.log(
          `${route.name.padEnd(28)} round ${round + 1} ${pair.impl.name.padEnd(24)} ` +
            `${Math.round(sample.rps)} req/s, p99 ${sample.p99} ms, ${Math.round(sample.cpuUs)} µs CPU/req` +
            (sample.database
              ? `, ${sample.database.roundTrips.toFixed(2)} statements/req`
              : ''),
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
  if (section.routes.includes(getOrder)) {
    for (const pair of pairs) {
      await load(pair, getOrder, { durationS: 2 });
      await stop(pair.users);
      const sample = await load(pair, getOrder, {
        durationS: settings.durationS,
      });
      outage.set(pair.impl.name, sample);
      console.log(
        `GET /orders/:id, users stopped, ${pair.impl.name.padEnd(24)} ${Math.round(sample.rps)} req/s, ` +
          `${Math.round((100 * (sample.non2xx + sample.errors)) / Math.max(1, sample.total + sample.errors))} % failed`,
      );
    }
  }
  for (const pair of pairs) {
    await stop(pair.orders);
    await stop(pair.users);
  }
  return { section, samples, idle, after, outage };
}

async function main(): Promise<void> {
  const implementations = SECTIONS.flatMap(
    (section) => section.implementations,
  );
  const onDatabase = implementations.filter((impl) => impl.database);
  const stopDatabases =
    onDatabase.length > 0
      ? await startDatabases(onDatabase)
      : async () => undefined;
  const view =
    onDatabase.length > 0
      ? await DatabaseView.open(cluster.url, cluster.pid)
      : undefined;
  const startup = new Map<string, { users: number[]; orders: number[] }>();
  for (let round = 0; round < settings.startRounds; round++) {
    for (const impl of rotated(implementations, round)) {
      const pair = await startPair(impl);
      const times = startup.get(impl.name) ?? { users: [], orders: [] };
      times.users.push(pair.users.readyMs);
      times.orders.push(pair.orders.readyMs);
      startup.set(impl.name, times);
      await stop(pair.orders);
      await stop(pair.users);
    }
  }

  const results: SectionResult[] = [];
  for (const section of SECTIONS) results.push(await runSection(section, view));
  rmSync(logDir, { recursive: true, force: true });
  await view?.close();
  await stopDatabases();

  // Last, and apart: instructions per request under callgrind (bench/instructions.ts).
  const instructions =
    sectionsWanted.length === 0 || sectionsWanted.includes('instructions')
      ? await instructionsSection(quick)
      : [];
  const report =
    render(results, startup) +
    (instructions.length > 0 ? `${instructions.join('\n')}\n` : '');
  console.log(`\n${report}`);
  if (!quick && !partial) {
    // As `prettier --check` (in .ci/run) wants it: the tables are written unaligned.
    const file = join(ROOT, 'bench', 'RESULTS.md');
    const prettier = await import('prettier');
    const options = (await prettier.resolveConfig(file)) ?? {};
    writeFileSync(
      file,
      await prettier.format(report, { ...options, filepath: file }),
    );
  }
}

const fixed = (n: number, digits = 0) =>
  n.toLocaleString('en-US', {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });

function render(
  results: SectionResult[],
  startup: Map<string, { users: number[]; orders: number[] }>,
): string {
  const lines = [
    `# Benchmark results`,
    '',
    `${new Date().toISOString().slice(0, 10)} · ${cpus().length} cores (${cpus()[0]?.model.trim()}) · ` +
      `Node ${process.version} · autocannon, ${settings.connections} connections, ` +
      `${settings.rounds} rounds of ${settings.durationS} s per route and implementation, alternated · ` +
      `${settings.users} users and ${settings.orders} orders created through each API first; ids spread at random.`,
    '',
    `Produced by \`npm run bench\`. Figures are medians of the rounds; ratios are the medians of each round's ratio.`,
  ];
  for (const result of results) lines.push(...renderSection(result));
  const implementations = results.flatMap(
    (result) => result.section.implementations,
  );
  lines.push(
    '',
    '## Start and memory',
    '',
    '| implementation | users: start to ready | orders: start to ready | users RSS idle / after load | orders RSS idle / after load |',
    '|---|--:|--:|--:|--:|',
  );
  for (const impl of implementations) {
    const result = results.find((r) =>
      r.section.implementations.includes(impl),
    )!;
    const times = startup.get(impl.name)!;
    const [usersIdle, ordersIdle] = result.idle.get(impl.name)!;
    const [usersAfter, ordersAfter] = result.after.get(impl.name)!;
    lines.push(
      `| ${impl.name} | ${fixed(median(times.users))} ms | ${fixed(median(times.orders))} ms | ` +
        `${fixed(usersIdle)} / ${fixed(usersAfter)} MB | ${fixed(ordersIdle)} / ${fixed(ordersAfter)} MB |`,
    );
  }
  lines.push('', `Start to ready: median of ${settings.startRounds} starts.`);
  const memory = results.find((r) => r.section.key === 'memory');
  if (memory?.idle.has(project.name)) {
    for (const reference of [minimal, featured, bare]) {
      if (!memory.idle.has(reference.name)) continue;
      const [p, r] = [project, reference].map((impl) =>
        memory.idle.get(impl.name)!,
      );
      lines.push(
        `Idle RSS, ${project.name} / ${reference.name}: users ${fixed(p[0] / r[0], 2)}×, orders ${fixed(p[1] / r[1], 2)}×.`,
      );
    }
  }
  lines.push('');
  return lines.join('\n');
}

function renderSection({ section, samples, outage }: SectionResult): string[] {
  const names = new Map(
    section.implementations.map((impl) => [impl.key, impl.name]),
  );
  const references = section.references
    .map((key) => names.get(key))
    .filter((name): name is string => name !== undefined);
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
  const onDatabase = section.implementations.some((impl) => impl.database);
  const lines = [
    '',
    `## ${section.title}`,
    '',
    `| route | implementation | req/s | p50 ms | p99 ms | CPU µs/req | ${onDatabase ? 'DB CPU µs/req | statements/req | ' : ''}errors | non-2xx | ${references.map((r) => `vs ${r}`).join(' | ')} |`,
    `|---|---|--:|--:|--:|--:|${onDatabase ? '--:|--:|' : ''}--:|--:|${references.map(() => '--:|').join('')}`,
  ];
  for (const route of section.routes) {
    for (const impl of section.implementations) {
      const runs = samples.get(`${route.name}|${impl.name}`)!;
      const sum = (pick: (s: Sample) => number) =>
        runs.reduce((n, s) => n + pick(s), 0);
      const of = (pick: (s: Sample) => number, digits = 0) =>
        fixed(medianOf(route.name, impl.name, pick), digits);
      const ratios = references.map((reference) =>
        reference === impl.name
          ? ''
          : `${fixed(ratio(route.name, impl.name, reference), 2)}×`,
      );
      const database = onDatabase
        ? `${of((s) => s.database?.cpuUs ?? 0)} | ${of((s) => s.database?.roundTrips ?? 0, 2)} | `
        : '';
      lines.push(
        `| \`${route.name}\` | ${impl.name} | ${of((s) => s.rps)} | ` +
          `${of((s) => s.p50)} | ${of((s) => s.p99)} | ${of((s) => s.cpuUs)} | ${database}` +
          `${sum((s) => s.errors)} | ${sum((s) => s.non2xx)} | ${ratios.join(' | ')} |`,
      );
    }
  }
  for (const { name } of baselines) {
    const baseline = section.implementations.find((impl) =>
      impl.key.startsWith(name),
    )?.name;
    const ours = section.implementations[0]?.name;
    if (!baseline || !ours) continue;
    lines.push(
      '',
      `Throughput, ${ours} / ${baseline}: ${section.routes
        .map(
          (route) =>
            `\`${route.name}\` ${fixed(ratio(route.name, ours, baseline), 2)}×`,
        )
        .join(', ')}; CPU per request: ${section.routes
        .map((route) => {
          const cpu = (impl: string) =>
            medianOf(route.name, impl, (s) => s.cpuUs);
          return `${fixed(cpu(ours) / cpu(baseline), 2)}×`;
        })
        .join(', ')}.`,
    );
  }
  if (onDatabase) lines.push(...renderDatabaseView(section, samples));
  if (outage.size > 0) {
    lines.push(
      '',
      `\`GET /orders/:id\` with users stopped, after ${2} s of the same load (one run of ${settings.durationS} s each):`,
      '',
      '| implementation | req/s | answered 2xx | non-2xx | errors |',
      '|---|--:|--:|--:|--:|',
    );
    for (const impl of section.implementations) {
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
  return lines;
}

/**
 * The database's view of each route: its statements, each with calls per request answered and
 * its mean time, and, for the writes, what the sessions waited on. From the last round.
 */
function renderDatabaseView(
  section: Section,
  samples: Map<string, Sample[]>,
): string[] {
  const lines = [
    '',
    '### What the database saw',
    '',
    "From each route's last round: every statement of the implementation's two databases (pg_stat_statements), " +
      'its calls per request answered (each a round trip) and its mean execution time; and for the writes, ' +
      "the wait events of the implementation's active sessions, sampled every 20 ms from pg_stat_activity (CPU: no wait).",
  ];
  for (const route of section.routes) {
    for (const impl of section.implementations) {
      const last = samples.get(`${route.name}|${impl.name}`)!.at(-1)!;
      const database = last.database;
      if (!database) continue;
      const answered = Math.max(1, last.total);
      lines.push(
        '',
        `**\`${route.name}\`, ${impl.name}**: ${fixed(database.roundTrips, 2)} statements per request`,
        '',
        '| statement | calls/req | mean ms |',
        '|---|--:|--:|',
      );
      for (const statement of database.statements.filter(
        (s) => s.calls / answered >= 0.005,
      ))
        lines.push(
          `| \`${statement.query.slice(0, 110).replace(/\|/g, '\\|')}${statement.query.length > 110 ? '…' : ''}\` | ` +
            `${fixed(statement.calls / answered, 2)} | ${fixed(statement.meanMs, 3)} |`,
        );
      if (route.writes && database.waits.size > 0)
        lines.push(
          '',
          `Waits: ${[...database.waits]
            .sort((a, b) => b[1] - a[1])
            .slice(0, 6)
            .map(([wait, share]) => `${wait} ${fixed(100 * share)} %`)
            .join(', ')}.`,
        );
    }
  }
  return lines;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
