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
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { parse } from 'yaml';
import { serviceDefinitions } from '../service-definitions';
import { fileHashes, ROOT } from './build-stage';
import { forPodman, kustomizedFiles, secretKeys } from './kube';
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

/* eslint-disable @typescript-eslint/no-require-imports */
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
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * npm run test:image: the Dockerfile built with podman on a stand-in base, and both images run
 * the ways the project promises: as containers (in memory, then on PostgreSQL), and as
 * `podman kube play` of deploy/k8s. Everything made here is removed at the end, but the base.
 * One run at a time on a machine: the images carry the manifests' names, the pods podman's.
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

/** One line of what happened, between jest's lines. */
const note = (line: string) => process.stderr.write(`    · ${line}\n`);
const since = (started: number) => Math.round((Date.now() - started) / 1000);

// What the images are called and how long they may take to stop: compose.yaml's, which the
// deployment test holds to the manifests and the Dockerfile.
const compose = parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8')) as {
  services: Record<
    string,
    { image: string; build: { target: string }; stop_grace_period: string }
  >;
};
const IMAGE = Object.fromEntries(
  APPS.map((app) => [app, compose.services[app].image]),
) as Record<App, string>;
const GRACE_S = Math.max(
  ...APPS.map((app) => parseInt(compose.services[app].stop_grace_period, 10)),
);

const scratch = mkdtempSync(join(tmpdir(), 'image-test-'));
const madeContainers = new Set<string>();
const madeSecrets = new Set<string>();
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
  for (const app of APPS) tagsBefore[app] = await imageId(IMAGE[app]);

  const made = standInBase(note);
  base = made.image;
  note(`stand-in base ${base}: ${made.made} in ${made.seconds} s`);

  for (const app of APPS) {
    const log = join(scratch, `build-${app}.log`);
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
        `NODE_IMAGE=${base}`,
        '--target',
        compose.services[app].build.target,
        '--tag',
        IMAGE[app],
        ROOT,
      ],
      { log },
    );
    note(`built ${IMAGE[app]} in ${since(started)} s`);
  }
}, 60 * 60_000);

afterAll(async () => {
  const started = Date.now();
  for (const file of playedFiles)
    await podman(['kube', 'down', file], { env: { CONTAINERS_CONF: conf() } });
  for (const name of madeContainers)
    await podman(['rm', '--force', '--time', '0', name]);
  for (const name of madeSecrets) await podman(['secret', 'rm', name]);
  await cluster?.stop();
  if (imagesBefore) {
    const baseId = base ? await imageId(base) : undefined;
    const made = [...(await imageIds())].filter(
      (id) => !imagesBefore!.has(id) && id !== baseId,
    );
    if (made.length > 0) await podman(['rmi', '--force', ...made]);
    note(
      `removed ${madeContainers.size} containers, ${playedFiles.length} kube plays, ${madeSecrets.size} secrets and ${made.length} images (build stages included) in ${since(started)} s`,
    );
    // An image of the same name from before this run gets its name back.
    for (const app of APPS) {
      const before = tagsBefore[app];
      if (before && (await imageId(before)))
        await podman(['tag', before, IMAGE[app]]);
    }
  }
  rmSync(scratch, { recursive: true, force: true });
}, 5 * 60_000);

describe('the images', () => {
  it.each(APPS)(
    `%s is lean: under ${LEAN_MB} MB above the base`,
    async (app) => {
      const [image, stand] = await Promise.all([
        inspect('image', IMAGE[app]),
        inspect('image', base),
      ]);
      const above = megabytes(image.Size - stand.Size);
      note(
        `${IMAGE[app]}: ${megabytes(image.Size)} MB, ${above} MB above the ${megabytes(stand.Size)} MB base`,
      );
      expect(above).toBeLessThan(LEAN_MB);
    },
  );

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

describe('podman kube play of deploy/k8s, on the same PostgreSQL, --network slirp4netns', () => {
  const published = {} as Record<App, string>;
  const pods: string[] = [];
  /** The app's own container in its pod (not the init or infra one). */
  const appContainer = {} as Record<App, string>;

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
      const app = APPS.find((name) =>
        docs.some(
          (doc) => doc.kind === 'Deployment' && doc.metadata.name === name,
        ),
      );
      if (!app)
        throw new Error(`deploy/k8s/${file} has no Deployment of an app`);
      const port = await freePort();
      published[app] = `http://127.0.0.1:${port}`;
      // The pods reach the host's loopback, where the cluster listens, at 10.0.2.2
      // (slirp4netns:allow_host_loopback=true).
      const url = new URL(cluster.url);
      url.hostname = '10.0.2.2';
      url.pathname = `/k8s_${app}`;
      for (const [name, keys] of Object.entries(secretKeys(docs))) {
        // podman 4.3's own format for a Secret: a JSON object of base64 values.
        const data = Object.fromEntries(
          keys.map((key) => [
            key,
            Buffer.from(url.toString()).toString('base64'),
          ]),
        );
        // From a file: podman 4.3 reads `-` only from a named pipe.
        const file = join(scratch, `${name}.json`);
        writeFileSync(file, JSON.stringify(data), { mode: 0o600 });
        madeSecrets.add(name);
        await podmanOk(['secret', 'create', name, file]);
        rmSync(file);
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
      appContainer[app] = names
        .split('\n')
        .find((name) => name.endsWith(`-${app}`))!;
    }
    note(`kube play: both pods created in ${since(started)} s`);
  }, 300_000);

  it('starts both pods, whose init containers migrate, and they become ready through the published ports', async () => {
    for (const app of APPS)
      await ready(
        { name: appContainer[app], app, url: published[app] },
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
      const name = appContainer[app];
      const { Config, HostConfig } = await inspect('container', name);
      expect(Config.Env).toEqual(
        expect.arrayContaining([
          'DATABASE_MIGRATE_AT_START=false',
          expect.stringMatching(
            new RegExp(
              `^DATABASE_URL=postgres://.*@10\\.0\\.2\\.2:\\d+/k8s_${app}$`,
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
    for (const app of APPS) {
      const { State } = await inspect('container', appContainer[app]);
      expect({ app, exitCode: State.ExitCode }).toEqual({ app, exitCode: 0 });
      expect(await errorsLogged(appContainer[app])).toEqual([]);
    }
  });
});

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
