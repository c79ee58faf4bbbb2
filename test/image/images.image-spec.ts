import {
  BuiltApp,
  eventually,
  expectSeedCalls,
  freePort,
  serviceNames,
  startBuiltApp,
} from '@app/testing';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { parse } from 'yaml';
import { serviceDefinitions } from '../service-definitions';
import { fileHashes, ROOT } from './build-stage';
import {
  forPodman,
  kustomizedFiles,
  Manifest,
  secretKeys,
  secretVolumes,
  volumeSecret,
} from './kube';
import {
  imageId,
  imageIds,
  inspect,
  megabytes,
  podman,
  podmanOk,
  noNewPrivileges,
  processUids,
  runHealthcheck,
  healthy,
  ULIMITS,
} from './podman';

const { standInBase } = require('../../scripts/stand-in-base.cjs') as {
  standInBase: (log: (line: string) => void) => {
    image: string;
    made: string;
    seconds: number;
  };
};
const { startCluster } = require('../../scripts/postgres-cluster.cjs') as {
  startCluster: () => Promise<{
    url: string;
    port: number;
    stop(): Promise<void>;
  }>;
};
const { bundleRequires } = require('../../scripts/runtime-deps.cjs') as {
  bundleRequires: (folder: string, optional: string[]) => string[];
};
const { OPTIONAL } = require('../../rspack.config.js') as {
  OPTIONAL: string[];
};

/**
 * npm run test:image: the Dockerfile built with podman on a stand-in base, and both images run
 * the ways the project promises: as containers (in memory, then on PostgreSQL, then through the
 * pgbouncer image in front of it), and as `podman kube play` of deploy/k8s. Everything made here
 * is removed at the end, but the base. One run at a time on a machine: the images carry the
 * manifests' names, the pods podman's.
 */
jest.setTimeout(120_000);

// Every service of nest-cli.json is built, sized and checked; the seed's calls run on users and
// orders, and kube play plays whatever deploy/k8s holds.
const APPS = serviceNames();
type App = string;
const PORT_VARIABLE = Object.fromEntries(
  serviceDefinitions().map(({ name, port }) => [name, port]),
);
const LEAN_MB = 80;
// Debian's pgbouncer package with what it depends on: PgBouncer itself is under 1 MB, most of the
// 62 MB measured on the stand-in base is Perl, which postgresql-common needs.
const PGBOUNCER_LEAN_MB = 70;

/** One line of what happened, between jest's lines. */
const note = (line: string) => process.stderr.write(`    · ${line}\n`);
const since = (started: number) => Math.round((Date.now() - started) / 1000);

// What the images are called and how long they may take to stop: compose.yaml's, which the
// deployment test holds to the manifests and the Dockerfile.
const compose = parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8')) as {
  services: Record<
    string,
    {
      image: string;
      build: { target: string };
      stop_grace_period: string;
      environment: Record<string, string>;
      volumes: string[];
      expose: string[];
      tmpfs: string[];
      entrypoint: string[];
      healthcheck: { test: string[] };
    }
  >;
};
const PGBOUNCER = 'pgbouncer';
const IMAGE = Object.fromEntries(
  [...APPS, PGBOUNCER].map((name) => [name, compose.services[name].image]),
) as Record<App, string>;
const GRACE_S = Math.max(
  ...APPS.map((app) => parseInt(compose.services[app].stop_grace_period, 10)),
);

const scratch = mkdtempSync(join(tmpdir(), 'image-test-'));
const madeContainers = new Set<string>();
const madeSecrets = new Set<string>();
const madeVolumes = new Set<string>();
const playedFiles: string[] = [];
let imagesBefore: Set<string> | undefined;
const tagsBefore: Partial<Record<App, string>> = {};
let base: string;
let cluster: Awaited<ReturnType<typeof startCluster>> | undefined;

interface Container {
  name: string;
  app: App;
  url: string;
}

/** Starts one container of an app, --network host, read-only, on its own port. */
async function runContainer(
  app: App,
  phase: string,
  env: Record<string, string>,
): Promise<Container> {
  const port = await freePort();
  const name = `users-orders-image-test-${phase}-${app}`;
  // A run that was killed may have left it behind.
  await podman(['rm', '--force', '--time', '0', name]);
  const portVar = PORT_VARIABLE[app];
  madeContainers.add(name);
  await podmanOk([
    'run',
    '--detach',
    '--name',
    name,
    '--network',
    'host',
    // As readOnlyRootFilesystem in Kubernetes: no writable /tmp either.
    '--read-only',
    '--read-only-tmpfs=false',
    ...ULIMITS,
    ...Object.entries({ [portVar]: String(port), ...env }).flatMap(
      ([key, value]) => ['--env', `${key}=${value}`],
    ),
    IMAGE[app],
  ]);
  return { name, app, url: `http://127.0.0.1:${port}` };
}

/** Waits until /health/ready answers 200, or fails with the container's logs. */
async function ready(container: Container, limitMs = 60_000): Promise<void> {
  try {
    await eventually(
      () =>
        fetch(`${container.url}/health/ready`)
          .then((response) => response.status)
          .catch(() => 0),
      (status) => status === 200,
      `${container.name} to be ready`,
      { limitMs, everyMs: 100 },
    );
  } catch (error) {
    const logs = await podman(['logs', container.name]);
    throw new Error(
      `${(error as Error).message}\n${logs.stdout}${logs.stderr}`.trim(),
    );
  }
}

/** What a container logged: lines that are not pino JSON, and pino lines at error or above. */
async function errorsLogged(name: string): Promise<string[]> {
  const { stdout, stderr } = await podman(['logs', name]);
  return `${stdout}${stderr}`
    .split('\n')
    .filter(Boolean)
    .filter((line) => {
      try {
        return (JSON.parse(line) as { level: number }).level >= 50;
      } catch {
        return true;
      }
    });
}

async function stopWithin(
  name: string,
): Promise<{ name: string; exitCode: number; withinGrace: boolean }> {
  const { seconds } = await podman(['stop', '--time', String(GRACE_S), name]);
  const { State } = await inspect('container', name);
  return {
    name,
    exitCode: State.ExitCode as number,
    withinGrace: seconds < GRACE_S,
  };
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.text() };
}

/**
 * The checks every pair of containers must pass, whatever its store: the seed's calls, readiness,
 * the image's HEALTHCHECK, its user, a read-only root, a clean stop and clean logs.
 */
function pairChecks(pair: () => Record<App, Container>) {
  it("answers the seed README's four calls exactly", async () => {
    const { users, orders } = pair();
    await expectSeedCalls(users.url, orders.url);
  });

  it('is ready on /health/ready', async () => {
    for (const container of Object.values(pair()))
      expect((await get(`${container.url}/health/ready`)).status).toBe(200);
  });

  it("passes the image's own HEALTHCHECK (podman healthcheck run)", async () => {
    for (const { name } of Object.values(pair())) {
      const { Config } = await inspect('container', name);
      expect(Config.Healthcheck?.Test?.join(' ')).toContain('/health/live');
      expect(await runHealthcheck(name)).toEqual(healthy(name));
    }
  });

  it('runs as uid 1000 (node), not root', async () => {
    for (const { name } of Object.values(pair()))
      expect({ name, uids: await processUids(name) }).toEqual({
        name,
        uids: [1000, 1000, 1000, 1000],
      });
  });

  it('serves from a read-only root file system, and its user owns none of /app', async () => {
    for (const { name } of Object.values(pair())) {
      const { HostConfig } = await inspect('container', name);
      expect(HostConfig.ReadonlyRootfs).toBe(true);
      const write = await podman([
        'exec',
        name,
        'node',
        '-e',
        "require('fs').writeFileSync('/app/x', '')",
      ]);
      expect(write.stderr).toContain('EROFS');
      const owned = await podmanOk([
        'exec',
        name,
        'find',
        '/app',
        '-not',
        '-user',
        'root',
      ]);
      expect({ name, notRoots: owned.trim() }).toEqual({ name, notRoots: '' });
    }
  });

  it(`stops with exit 0 within ${GRACE_S} s on podman stop`, async () => {
    const stopped = await Promise.all(
      Object.values(pair()).map(({ name }) => stopWithin(name)),
    );
    for (const result of stopped)
      expect(result).toEqual({
        name: result.name,
        exitCode: 0,
        withinGrace: true,
      });
  });

  it('logged no error, and nothing but JSON lines', async () => {
    for (const { name } of Object.values(pair()))
      expect({ name, errors: await errorsLogged(name) }).toEqual({
        name,
        errors: [],
      });
  });
}

beforeAll(async () => {
  const engine = await podman(['version', '--format', '{{.Client.Version}}']);
  if (engine.status !== 0)
    throw new Error(
      'podman does not run here: apt-get install -y podman runc catatonit slirp4netns debootstrap (see .ci/run)',
    );
  imagesBefore = await imageIds();
  for (const name of [...APPS, PGBOUNCER])
    tagsBefore[name] = await imageId(IMAGE[name]);

  const made = standInBase(note);
  base = made.image;
  note(`stand-in base ${base}: ${made.made} in ${made.seconds} s`);

  /** One target of the Dockerfile, on the stand-in base given as its base image argument. */
  const build = async (name: string, baseArg: string) => {
    const started = Date.now();
    await podmanOk(
      [
        'build',
        '--network',
        'host',
        '--format',
        'docker',
        ...ULIMITS,
        '--build-arg',
        `${baseArg}=${base}`,
        '--target',
        compose.services[name].build.target,
        '--tag',
        IMAGE[name],
        ROOT,
      ],
      { log: join(scratch, `build-${name}.log`) },
    );
    note(`built ${IMAGE[name]} in ${since(started)} s`);
  };
  for (const app of APPS) await build(app, 'NODE_IMAGE');
  // PgBouncer's image is Debian's, which the stand-in base is too.
  await build(PGBOUNCER, 'DEBIAN_IMAGE');
}, 60 * 60_000);

afterAll(async () => {
  const started = Date.now();
  for (const file of playedFiles)
    await podman(['kube', 'down', file], { env: { CONTAINERS_CONF: conf() } });
  for (const name of madeContainers)
    await podman(['rm', '--force', '--time', '0', name]);
  for (const name of madeSecrets) await podman(['secret', 'rm', name]);
  for (const name of madeVolumes) await podman(['volume', 'rm', name]);
  await cluster?.stop();
  if (imagesBefore) {
    const baseId = base ? await imageId(base) : undefined;
    const made = [...(await imageIds())].filter(
      (id) => !imagesBefore!.has(id) && id !== baseId,
    );
    if (made.length > 0) await podman(['rmi', '--force', ...made]);
    note(
      `removed ${madeContainers.size} containers, ${playedFiles.length} kube plays, ${madeSecrets.size} secrets, ${madeVolumes.size} volumes and ${made.length} images (build stages included) in ${since(started)} s`,
    );
    // An image of the same name from before this run gets its name back.
    for (const name of [...APPS, PGBOUNCER]) {
      const before = tagsBefore[name];
      if (before && (await imageId(before)))
        await podman(['tag', before, IMAGE[name]]);
    }
  }
  rmSync(scratch, { recursive: true, force: true });
}, 5 * 60_000);

describe('the images', () => {
  it.each([
    ...APPS.map((app) => [app, LEAN_MB] as const),
    // Debian's PgBouncer, with the Perl its packaging brings.
    [PGBOUNCER, PGBOUNCER_LEAN_MB] as const,
  ])('%s is lean: under %s MB above the base', async (name, limit) => {
    const [image, stand] = await Promise.all([
      inspect('image', IMAGE[name]),
      inspect('image', base),
    ]);
    const above = megabytes(image.Size - stand.Size);
    note(
      `${IMAGE[name]}: ${megabytes(image.Size)} MB, ${above} MB above the ${megabytes(stand.Size)} MB base`,
    );
    expect(above).toBeLessThan(limit);
  });

  it('pgbouncer runs as its postgres user, whose uid deploy/k8s/pgbouncer.yaml gives as runAsUser', async () => {
    const { Config } = await inspect('image', IMAGE[PGBOUNCER]);
    expect(Config.User).toBe('postgres');
    const uid = await podmanOk([
      'run',
      '--rm',
      '--network',
      'none',
      ...ULIMITS,
      IMAGE[PGBOUNCER],
      'id',
      '-u',
    ]);
    expect(Number(uid.trim())).toBe(pgbouncerPod().securityContext.runAsUser);
  });

  it.each(APPS)(
    '%s holds the bundles npm run build made here, byte for byte',
    async (app) => {
      const inImage = await podmanOk([
        'run',
        '--rm',
        '--network',
        'none',
        ...ULIMITS,
        IMAGE[app],
        'node',
        '-e',
        `const { createHash } = require('crypto'); const fs = require('fs'); const dir = 'dist/apps/${app}';
         console.log(JSON.stringify(Object.fromEntries(fs.readdirSync(dir).sort().map((f) =>
           [f, createHash('sha256').update(fs.readFileSync(dir + '/' + f)).digest('hex')]))));`,
      ]);
      expect(JSON.parse(inImage)).toEqual(
        fileHashes(join(ROOT, 'dist', 'apps', app)),
      );
    },
  );

  it.each(APPS)(
    '%s finds in its node_modules every package its bundle requires',
    async (app) => {
      const requires = bundleRequires(
        join(ROOT, 'dist', 'apps', app),
        OPTIONAL,
      );
      expect(requires).toContain('pino');
      const missing = await podmanOk([
        'run',
        '--rm',
        '--network',
        'none',
        ...ULIMITS,
        IMAGE[app],
        'node',
        '-e',
        `const missing = [];
         for (const id of JSON.parse(process.argv[1]))
           try { require.resolve(id, { paths: ['/app/dist/apps/${app}'] }); } catch { missing.push(id); }
         console.log(JSON.stringify(missing));`,
        JSON.stringify(requires),
      ]);
      expect(JSON.parse(missing)).toEqual([]);
    },
  );
});

describe('one container of each, in memory, --network host, --read-only', () => {
  const pair = {} as Record<App, Container>;

  beforeAll(async () => {
    const started = Date.now();
    pair.users = await runContainer('users', 'memory', {});
    pair.orders = await runContainer('orders', 'memory', {
      USERS_SERVICE_URL: pair.users.url,
    });
    await Promise.all([ready(pair.users), ready(pair.orders)]);
    note(`the pair was ready in ${since(started)} s`);
  }, 120_000);

  it('serves Swagger UI at /docs, its files from swagger-ui-dist', async () => {
    for (const { url } of Object.values(pair)) {
      const page = await get(`${url}/docs`);
      expect(page.status).toBe(200);
      expect(page.body).toContain('swagger-ui');
      const bundle = await get(`${url}/docs/swagger-ui-bundle.js`);
      expect(bundle.status).toBe(200);
      expect(bundle.body.length).toBeGreaterThan(100_000);
    }
  });

  it('serves the same OpenAPI document as the build run here', async () => {
    for (const app of APPS) {
      const port = await freePort();
      const here: BuiltApp = await startBuiltApp(app, port, {
        [PORT_VARIABLE[app]]: String(port),
      });
      try {
        expect(
          JSON.parse((await get(`${pair[app].url}/openapi.json`)).body),
        ).toEqual(JSON.parse((await get(`${here.url}/openapi.json`)).body));
      } finally {
        await here.stop();
      }
    }
  });

  pairChecks(() => pair);
});

describe('with OpenTelemetry (OTEL_EXPORTER_OTLP_ENDPOINT): the SDK from the lean node_modules', () => {
  let collector: Server;
  const exported: string[] = [];
  let live: Container;
  let dead: Container;

  beforeAll(async () => {
    // A stand-in collector: takes OTLP/HTTP posts and keeps their bodies.
    collector = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('latin1')));
      request.on('end', () => {
        exported.push(`${request.method} ${request.url} ${body}`);
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.end('{}');
      });
    });
    await new Promise<void>((resolve) =>
      collector.listen(0, '127.0.0.1', resolve),
    );
    const { port } = collector.address() as { port: number };
    live = await runContainer('users', 'otel', {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    // Nothing listens there.
    dead = await runContainer('users', 'otel-dead', {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    await Promise.all([ready(live), ready(dead)]);
  }, 120_000);

  afterAll(async () => {
    await new Promise((resolve) => collector?.close(resolve));
  });

  it('exports the spans of a request to the collector', async () => {
    expect((await get(`${live.url}/users/1`)).status).toBe(200);
    await eventually(
      () => exported.filter((post) => post.includes('/users/:id')),
      (posts) => posts.length > 0,
      'a span of GET /users/:id at the collector',
    );
    expect(exported[0]).toMatch(/^POST \/v1\/traces /);
  });

  it('still starts and serves with the collector unreachable', async () => {
    expect((await get(`${dead.url}/health/ready`)).status).toBe(200);
    expect(await get(`${dead.url}/users/1`)).toEqual({
      status: 200,
      body: '{"name":"Alice","email":"alice@example.com"}',
    });
  });

  it('stops with exit 0 and logged no error, spans exported', async () => {
    expect(await stopWithin(live.name)).toEqual({
      name: live.name,
      exitCode: 0,
      withinGrace: true,
    });
    expect(await errorsLogged(live.name)).toEqual([]);
  });
});

describe('one container of each on PostgreSQL (a throwaway cluster on the host)', () => {
  const pair = {} as Record<App, Container>;
  const urls = {} as Record<App, string>;

  beforeAll(async () => {
    const started = Date.now();
    cluster = await startCluster();
    await createDatabases(cluster.url, APPS);
    for (const app of APPS) {
      const url = new URL(cluster.url);
      url.pathname = `/${app}`;
      urls[app] = url.toString();
    }
    pair.users = await runContainer('users', 'postgres', {
      DATABASE_URL: urls.users,
    });
    pair.orders = await runContainer('orders', 'postgres', {
      DATABASE_URL: urls.orders,
      USERS_SERVICE_URL: pair.users.url,
    });
    await Promise.all([ready(pair.users), ready(pair.orders)]);
    note(`the cluster and the pair were ready in ${since(started)} s`);
  }, 120_000);

  it('is ready with its database connected', async () => {
    for (const { url } of Object.values(pair)) {
      const { body } = await get(`${url}/health/ready`);
      expect(JSON.parse(body)).toMatchObject({
        details: { database: { status: 'up' } },
      });
    }
  });

  pairChecks(() => pair);

  it('kept what the seed calls created in PostgreSQL', async () => {
    const client = new Client({ connectionString: urls.users });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string }>(
        'select name from users order by id',
      );
      expect(rows.map((row) => row.name)).toEqual(['Alice', 'Bob', 'Charlie']);
    } finally {
      await client.end();
    }
  });
});

describe('PgBouncer from its image as compose runs it, in front of the same PostgreSQL, and users through it', () => {
  const pgbouncer = compose.services[PGBOUNCER];
  const name = 'users-orders-image-test-pgbouncer';
  let port: number;
  let users: Container;
  let queryTimeoutS: number;
  /** A PostgreSQL URL of user app (compose's) to a database through PgBouncer. */
  const throughPgBouncer = (database: string) =>
    `postgres://app:local-only@127.0.0.1:${port}/${database}`;

  beforeAll(async () => {
    const started = Date.now();
    if (!cluster)
      throw new Error('no PostgreSQL cluster: the suite above failed');
    // compose's PostgreSQL: user app (POSTGRES_PASSWORD local-only), owner of the databases.
    const databases = APPS.map((app) => `pgbouncer_${app}`);
    await asSuperuser(cluster.url, [
      "create role app login password 'local-only'",
      ...databases.map((database) => `create database ${database} owner app`),
    ]);
    // compose's pgbouncer.ini, its [databases] sent to the cluster on the host's loopback
    // (10.0.2.2 from slirp4netns), each to a database of its own here.
    const composeIni = readFileSync(
      join(ROOT, 'deploy/compose/pgbouncer.ini'),
      'utf8',
    );
    const ini = composeIni.replace(
      /host=postgres port=5432 dbname=(\w+)/g,
      `host=10.0.2.2 port=${cluster.port} dbname=pgbouncer_$1`,
    );
    expect(ini.match(/dbname=pgbouncer_/g)).toHaveLength(APPS.length);
    queryTimeoutS = Number(/^query_timeout = (\S+)$/m.exec(ini)![1]);
    const iniFile = join(scratch, 'pgbouncer.ini');
    writeFileSync(iniFile, ini, { mode: 0o644 });
    const [, iniTarget, iniMode] = pgbouncer.volumes[0].split(':');
    port = await freePort();
    await podman(['rm', '--force', '--time', '0', name]);
    madeContainers.add(name);
    // As compose runs it: read-only, no new privileges, its tmpfs, its entrypoint (compose's $$
    // is $) and environment, its pgbouncer.ini; its port published as compose's network reaches it.
    await podmanOk([
      'run',
      '--detach',
      '--name',
      name,
      '--network',
      'slirp4netns:allow_host_loopback=true',
      '--publish',
      `127.0.0.1:${port}:${pgbouncer.expose[0]}`,
      '--read-only',
      '--read-only-tmpfs=false',
      '--security-opt',
      'no-new-privileges',
      ...ULIMITS,
      ...pgbouncer.tmpfs.flatMap((dir) => ['--tmpfs', dir]),
      '--volume',
      `${iniFile}:${iniTarget}:${iniMode}`,
      '--entrypoint',
      JSON.stringify(
        pgbouncer.entrypoint.map((word) => word.replaceAll('$$', '$')),
      ),
      ...Object.entries(pgbouncer.environment).flatMap(([key, value]) => [
        '--env',
        `${key}=${value.replace('${POSTGRES_PASSWORD:-local-only}', 'local-only')}`,
      ]),
      IMAGE[PGBOUNCER],
    ]);
    await eventually(
      async () => {
        const client = new Client({
          connectionString: throughPgBouncer('users'),
        });
        return client.connect().then(
          () => client.end().then(() => true),
          () => false,
        );
      },
      Boolean,
      'PgBouncer to let user app in',
      { limitMs: 30_000, everyMs: 100 },
    );
    // users as compose runs it: queries through PgBouncer, migrations directly.
    users = await runContainer('users', 'pgbouncer', {
      DATABASE_URL: throughPgBouncer('users'),
      DATABASE_MIGRATION_URL: `postgres://app:local-only@127.0.0.1:${cluster.port}/pgbouncer_users`,
      DATABASE_POOLER: 'transaction',
    });
    await ready(users);
    note(`PgBouncer and users through it were ready in ${since(started)} s`);
  }, 120_000);

  it("runs PgBouncer as the image's postgres user, read-only, without gaining privileges, and passes compose's healthcheck", async () => {
    const uid = pgbouncerPod().securityContext.runAsUser as number;
    expect(await processUids(name)).toEqual([uid, uid, uid, uid]);
    expect(await noNewPrivileges(name)).toBe(true);
    const { HostConfig } = await inspect('container', name);
    expect(HostConfig.ReadonlyRootfs).toBe(true);
    const [kind, ...command] = pgbouncer.healthcheck.test;
    expect(kind).toBe('CMD');
    await podmanOk(['exec', name, ...command]);
  });

  it('serves users in transaction mode: ready on its database, GET /users/1 and POST /users', async () => {
    const { body } = await get(`${users.url}/health/ready`);
    expect(JSON.parse(body)).toMatchObject({
      details: { database: { status: 'up' } },
    });
    expect(await get(`${users.url}/users/1`)).toEqual({
      status: 200,
      body: '{"name":"Alice","email":"alice@example.com"}',
    });
    const created = await fetch(`${users.url}/users`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Dora', email: 'dora@example.com' }),
    });
    expect({ status: created.status, body: await created.text() }).toEqual({
      status: 201,
      body: '{"user_id":3}',
    });
    expect(await get(`${users.url}/users/3`)).toEqual({
      status: 200,
      body: '{"name":"Dora","email":"dora@example.com"}',
    });
  });

  it("cancels a statement running past its query_timeout: the services' statement timeout here", async () => {
    const client = new Client({ connectionString: throughPgBouncer('users') });
    await client.connect();
    client.on('error', () => undefined);
    const started = Date.now();
    try {
      await expect(
        client.query(`select pg_sleep(${queryTimeoutS + 3})`),
      ).rejects.toThrow(/query.timeout/);
      const seconds = (Date.now() - started) / 1000;
      expect(seconds).toBeGreaterThanOrEqual(queryTimeoutS - 0.5);
      expect(seconds).toBeLessThan(queryTimeoutS + 3);
    } finally {
      await client.end().catch(() => undefined);
    }
  });

  it(`stops PgBouncer with exit 0 within ${GRACE_S} s, after users, and neither logged an error`, async () => {
    expect(await stopWithin(users.name)).toEqual({
      name: users.name,
      exitCode: 0,
      withinGrace: true,
    });
    expect(await stopWithin(name)).toEqual({
      name,
      exitCode: 0,
      withinGrace: true,
    });
    expect(await errorsLogged(users.name)).toEqual([]);
    // But the query timeout the test above asked for.
    expect(
      (await pgbouncerProblems(name)).filter(
        (line) => !/query timeout/.test(line),
      ),
    ).toEqual([]);
  });
});

describe('podman kube play of deploy/k8s, on the same PostgreSQL, --network slirp4netns', () => {
  /** Each Deployment's published port, by its name: the apps' and pgbouncer's. */
  const published = {} as Record<string, string>;
  const pods: string[] = [];
  /** Each Deployment's own container in its pod (not the init or infra one), by its name. */
  const mainContainer = {} as Record<string, string>;

  beforeAll(async () => {
    const started = Date.now();
    if (!cluster)
      throw new Error('no PostgreSQL cluster: the suite above failed');
    await createDatabases(
      cluster.url,
      APPS.map((app) => `k8s_${app}`),
    );
    writeFileSync(
      conf(),
      `# podman kube play takes no --runtime or --ulimit\n[containers]\ndefault_ulimits = [${ULIMITS.filter(
        (_, i) => i % 2,
      )
        .map((limit) => `"${limit}"`)
        .join(', ')}]\n[engine]\nruntime = "runc"\n`,
    );
    for (const { file, docs } of kustomizedFiles()) {
      const deployment = docs.find((doc) => doc.kind === 'Deployment')!;
      const name = deployment.metadata.name;
      if (!APPS.includes(name) && name !== PGBOUNCER)
        throw new Error(
          `deploy/k8s/${file} has no Deployment of an app or of pgbouncer`,
        );
      const port = await freePort();
      published[name] = `http://127.0.0.1:${port}`;
      // The pods reach the host's loopback, where the cluster listens, at 10.0.2.2
      // (slirp4netns:allow_host_loopback=true). The apps' `url` and `migration-url` both go to
      // it directly: PgBouncer's pod is played too, but its [databases] name a `postgres` host
      // that is not there.
      const url = new URL(cluster.url);
      url.hostname = '10.0.2.2';
      url.pathname = `/k8s_${name}`;
      for (const [secret, keys] of Object.entries(secretKeys(docs))) {
        // podman 4.3's own format for a Secret: a JSON object of base64 values.
        const data = Object.fromEntries(
          keys.map((key) => [
            key,
            Buffer.from(url.toString()).toString('base64'),
          ]),
        );
        await createSecret(secret, data);
      }
      // A Secret mounted as a volume (pgbouncer's userlist): the manifest's own placeholder,
      // in the format podman 4.3 reads a secret volume in.
      for (const secret of secretVolumes(docs)) {
        const document = docs.find(
          (doc) => doc.kind === 'Secret' && doc.metadata.name === secret,
        );
        if (!document)
          throw new Error(`deploy/k8s/${file} mounts no Secret ${secret}`);
        await createSecret(secret, volumeSecret(document));
      }
      // podman makes a volume of each ConfigMap and Secret a pod mounts, and keeps it.
      for (const volume of deployment.spec.template.spec.volumes ?? []) {
        const made = volume.configMap?.name ?? volume.secret?.secretName;
        if (made && (await podman(['volume', 'exists', made])).status !== 0)
          madeVolumes.add(made);
      }
      const { yaml, changes } = forPodman(docs, port);
      for (const change of changes) note(`${file}: ${change}`);
      const played = join(scratch, file);
      writeFileSync(played, yaml);
      playedFiles.push(played);
      const output = await podmanOk(
        [
          'kube',
          'play',
          '--network',
          'slirp4netns:allow_host_loopback=true',
          played,
        ],
        { env: { CONTAINERS_CONF: conf() } },
      );
      const [pod] = podsIn(output);
      pods.push(pod);
      const names = await podmanOk([
        'ps',
        '--all',
        '--filter',
        `pod=${pod}`,
        '--format',
        '{{.Names}}',
      ]);
      mainContainer[name] = names
        .split('\n')
        .find((each) => each.endsWith(`-${name}`))!;
    }
    note(`kube play: ${pods.length} pods created in ${since(started)} s`);
  }, 300_000);

  it('starts both pods, whose init containers migrate, and they become ready through the published ports', async () => {
    for (const app of APPS)
      await ready(
        { name: mainContainer[app], app, url: published[app] },
        120_000,
      );
    // The apps do not migrate (DATABASE_MIGRATE_AT_START=false): the seed rows are the init container's.
    expect(await get(`${published.users}/users/1`)).toEqual({
      status: 200,
      body: '{"name":"Alice","email":"alice@example.com"}',
    });
    const orders = await get(`${published.orders}/orders`);
    expect(JSON.parse(orders.body)).toMatchObject({
      items: [
        { order_id: 1, product: 'Laptop' },
        { order_id: 2, product: 'Smartphone' },
      ],
    });
  });

  it('runs the containers as the manifests say: ConfigMap and Secret env, uid 1000, read-only root, no privilege escalation, limits, liveness probe', async () => {
    for (const app of APPS) {
      const name = mainContainer[app];
      const { Config, HostConfig } = await inspect('container', name);
      expect(Config.Env).toEqual(
        expect.arrayContaining([
          'DATABASE_MIGRATE_AT_START=false',
          'DATABASE_POOLER=transaction',
          ...['DATABASE_URL', 'DATABASE_MIGRATION_URL'].map((variable) =>
            expect.stringMatching(
              new RegExp(
                `^${variable}=postgres://.*@10\\.0\\.2\\.2:\\d+/k8s_${app}$`,
              ),
            ),
          ),
        ]),
      );
      expect(await processUids(name)).toEqual([1000, 1000, 1000, 1000]);
      expect(await noNewPrivileges(name)).toBe(true);
      expect(HostConfig.ReadonlyRootfs).toBe(true);
      // The liveness probe, as podman runs it (see scripts/podman-kube.cjs), passes.
      expect(await runHealthcheck(name)).toEqual(healthy(name));
      // limits: memory 256Mi, cpu 500m
      expect(HostConfig.Memory).toBe(256 * 1024 * 1024);
      expect(HostConfig.CpuQuota / HostConfig.CpuPeriod).toBe(0.5);
      const { body } = await get(`${published[app]}/health/ready`);
      expect(JSON.parse(body)).toMatchObject({
        details: { database: { status: 'up' } },
      });
    }
  });

  it("starts the pgbouncer pod as its manifest says: its image's postgres uid, read-only root, no privilege escalation, limits, the ConfigMap's and the Secret's files, its probes", async () => {
    const name = mainContainer[PGBOUNCER];
    const pod = pgbouncerPod();
    const uid = pod.securityContext.runAsUser as number;
    expect(await processUids(name)).toEqual([uid, uid, uid, uid]);
    expect(await noNewPrivileges(name)).toBe(true);
    const { HostConfig } = await inspect('container', name);
    expect(HostConfig.ReadonlyRootfs).toBe(true);
    // limits: memory 128Mi, cpu 500m
    expect(HostConfig.Memory).toBe(128 * 1024 * 1024);
    expect(HostConfig.CpuQuota / HostConfig.CpuPeriod).toBe(0.5);
    // Each mounted file holds what the ConfigMap or the (placeholder) Secret says.
    const docs = kustomizedFiles().find(({ docs }) =>
      docs.some(
        (doc) => doc.kind === 'Deployment' && doc.metadata.name === PGBOUNCER,
      ),
    )!.docs;
    for (const mount of pod.containers[0].volumeMounts) {
      const volume = pod.volumes.find(
        (each: { name: string }) => each.name === mount.name,
      );
      const source = docs.find((doc) =>
        volume.configMap
          ? doc.kind === 'ConfigMap' &&
            doc.metadata.name === volume.configMap.name
          : doc.kind === 'Secret' &&
            doc.metadata.name === volume.secret.secretName,
      )!;
      for (const [key, text] of Object.entries(
        source.data ?? source.stringData ?? {},
      ))
        expect(
          await podmanOk(['exec', name, 'cat', `${mount.mountPath}/${key}`]),
        ).toBe(text);
    }
    // The liveness probe, as podman runs it; the readiness probe (tcpSocket, which podman does
    // not run) as kubelet would, through the published port.
    expect(await runHealthcheck(name)).toEqual(healthy(name));
    const { port } = new URL(published[PGBOUNCER]);
    await eventually(
      () => connects(Number(port)),
      Boolean,
      'the pgbouncer pod to take connections on its published port',
      { limitMs: 30_000, everyMs: 100 },
    );
  });

  it(`stops each pod with exit 0 within ${GRACE_S} s, with no error logged`, async () => {
    for (const pod of pods) {
      const { seconds } = await podman([
        'pod',
        'stop',
        '--time',
        String(GRACE_S),
        pod,
      ]);
      expect(seconds).toBeLessThan(GRACE_S);
    }
    for (const name of [...APPS, PGBOUNCER]) {
      const { State } = await inspect('container', mainContainer[name]);
      expect({ name, exitCode: State.ExitCode }).toEqual({
        name,
        exitCode: 0,
      });
    }
    for (const app of APPS)
      expect(await errorsLogged(mainContainer[app])).toEqual([]);
    expect(await pgbouncerProblems(mainContainer[PGBOUNCER])).toEqual([]);
  });
});

/** deploy/k8s/pgbouncer.yaml's pod spec. */
function pgbouncerPod(): Manifest['spec'] {
  const deployment = kustomizedFiles()
    .flatMap(({ docs }) => docs)
    .find(
      (doc) => doc.kind === 'Deployment' && doc.metadata.name === PGBOUNCER,
    );
  if (!deployment) throw new Error('no Deployment pgbouncer in deploy/k8s');
  return deployment.spec.template.spec;
}

/** What PgBouncer logged at WARNING or above (it logs lines of its own, not JSON). */
async function pgbouncerProblems(name: string): Promise<string[]> {
  const { stdout, stderr } = await podman(['logs', name]);
  return `${stdout}${stderr}`
    .split('\n')
    .filter((line) => /\b(WARNING|ERROR|FATAL)\b/.test(line));
}

/** Whether a TCP connection to 127.0.0.1:port opens. */
function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A podman secret made from a JSON object, removed at the end. */
async function createSecret(name: string, data: object): Promise<void> {
  // From a file: podman 4.3 reads `-` only from a named pipe.
  const file = join(scratch, `${name}.json`);
  writeFileSync(file, JSON.stringify(data), { mode: 0o600 });
  madeSecrets.add(name);
  try {
    await podmanOk(['secret', 'create', name, file]);
  } finally {
    rmSync(file);
  }
}

/** Statements run in order as the cluster's superuser. */
async function asSuperuser(serverUrl: string, statements: string[]) {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

function conf(): string {
  return join(scratch, 'containers.conf');
}

/** The pod ids `podman kube play` printed. */
function podsIn(output: string): string[] {
  const lines = output.split('\n').map((line) => line.trim());
  return lines.filter((_, i) => lines[i - 1] === 'Pod:');
}

async function createDatabases(
  serverUrl: string,
  names: string[],
): Promise<void> {
  // The cluster opens its port a moment before it takes connections.
  const client = await eventually(
    async () => {
      const attempt = new Client({ connectionString: serverUrl });
      try {
        await attempt.connect();
        return attempt;
      } catch {
        await attempt.end().catch(() => undefined);
        return undefined;
      }
    },
    (connected) => connected !== undefined,
    'the PostgreSQL cluster to take connections',
    { limitMs: 30_000, everyMs: 100 },
  );
  try {
    for (const name of names) await client!.query(`create database ${name}`);
  } finally {
    await client!.end();
  }
}
