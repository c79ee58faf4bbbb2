import { loadConfig } from '@app/config';
import {
  KEEP_ALIVE_TIMEOUT_MS,
  portOf,
  type ServiceDefinition,
} from '@app/platform';
import {
  builtMain,
  createTestApp,
  ROOT,
  serverSettings,
  testConfig,
  UPSTREAM_SERVER_PARAMETERS,
  UPSTREAM_SETTINGS,
} from '@app/testing';
import { INestApplication } from '@nestjs/common';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { isBuiltin } from 'node:module';
import { basename, dirname, join } from 'node:path';
import request from 'supertest';
import { parse, parseAllDocuments } from 'yaml';
import { serviceDefinitions } from './service-definitions';
// The packages the bundles may look for without their being installed (see rspack.config.js).
const { OPTIONAL } = require('../rspack.config.js') as { OPTIONAL: string[] };
// What the runtime image keeps of node_modules (the Dockerfile's runtime-deps stage).
const runtimePackages = (
  require('../scripts/runtime-deps.cjs') as {
    runtimePackages(dir: string): Set<string>;
  }
).runtimePackages(join(__dirname, '..'));

/**
 * Fast and engine-free: the deployment files agree with the code, by reading them (ports, health
 * routes, variable names and values, entry files), for every service of nest-cli.json as its
 * ServiceDefinition says. `npm run test:image` (test/image/) then builds the images and runs them,
 * as containers and as `podman kube play` of the manifests.
 */
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

const APPS: Record<
  string,
  { service: ServiceDefinition; portVar: string; port: number }
> = Object.fromEntries(
  serviceDefinitions().map((service) => [
    service.name,
    {
      service,
      portVar: service.port,
      port: portOf(service, new service.config()),
    },
  ]),
);
const APP_NAMES = Object.keys(APPS);

const LIVE = '/health/live';
const READY = '/health/ready';

/** The variables an app reads, by name. */
const variablesOf = (app: string) =>
  Object.keys(new APPS[app].service.config());

/** A shutdown's worst case in ms, from the app's config with these variables. */
function shutdownBoundMs(app: string, env: Record<string, string>): number {
  const config = loadConfig(APPS[app].service.config, env);
  return config.SHUTDOWN_DRAIN_MS + config.SHUTDOWN_TIMEOUT_MS;
}

/** The longest a statement of the app may run, in ms, from its config with these variables. */
function statementTimeoutMs(app: string, env: Record<string, string>): number {
  return loadConfig(APPS[app].service.config, env)
    .DATABASE_STATEMENT_TIMEOUT_MS;
}

/**
 * PgBouncer: the pgbouncer.ini the image runs (the Dockerfile's CMD), the port it listens on, and
 * where compose's and the manifests' database URLs must point. PostgreSQL's own port is compose's
 * postgres image's default, which the manifests' placeholders use too.
 */
const PGBOUNCER_INI = '/etc/pgbouncer/pgbouncer.ini';
const PGBOUNCER_PORT = 6432;
const POSTGRES_PORT = 5432;

/** An ini file (PgBouncer's format) by section, each a map of its settings; `;` and `#` comment. */
function ini(text: string): Record<string, Record<string, string>> {
  const sections: Record<string, Record<string, string>> = {};
  let section: Record<string, string> | undefined;
  for (const line of text.split('\n').map((each) => each.trim())) {
    if (!line || line.startsWith(';') || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) section = sections[header[1]] = {};
    else {
      const at = line.indexOf('=');
      if (!section || at < 0) throw new Error(`Not an ini setting: ${line}`);
      section[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    }
  }
  return sections;
}

/** A [databases] entry of pgbouncer.ini (`host=postgres port=5432 dbname=users`) as a map. */
function databaseEntry(
  pgbouncerIni: string,
  database: string,
): Record<string, string> | undefined {
  const entry = ini(pgbouncerIni).databases?.[database];
  return entry === undefined
    ? undefined
    : Object.fromEntries(entry.split(/\s+/).map((pair) => pair.split('=')));
}

/** What PgBouncer must have to stand in front of the services (docs/operations.md, PgBouncer). */
function expectTransactionPooling(pgbouncerIni: string, timeoutsMs: number[]) {
  const { pgbouncer } = ini(pgbouncerIni);
  expect(pgbouncer.pool_mode).toBe('transaction');
  // The statement timeout the services cannot send through it: PgBouncer's query_timeout
  // (seconds) must not cut a statement the services let run.
  expect(timeoutsMs.length).toBeGreaterThan(0);
  for (const timeoutMs of timeoutsMs)
    expect(Number(pgbouncer.query_timeout) * 1000).toBeGreaterThanOrEqual(
      timeoutMs,
    );
  expect(Number(pgbouncer.listen_port)).toBe(PGBOUNCER_PORT);
  // Nothing written to a read-only root file system: no Unix socket, pid file or log file.
  expect(pgbouncer.unix_socket_dir).toBe('');
  expect(pgbouncer.pidfile ?? '').toBe('');
  expect(pgbouncer.logfile ?? '').toBe('');
}

/** A container's resources: requests and limits of CPU and memory, each set. */
function expectRequestsAndLimits(container: {
  resources: { requests?: unknown; limits?: unknown };
}): void {
  for (const bound of [
    container.resources.requests,
    container.resources.limits,
  ])
    expect(bound).toEqual({
      cpu: expect.any(String),
      memory: expect.any(String),
    });
}

describe('the health routes the deployment files probe', () => {
  it.each(APP_NAMES)('exist on %s and answer 200', async (name) => {
    const { service } = APPS[name];
    // A peer service that cannot be reached, answered at once: readiness must not wait for it.
    const unreachablePeers = Object.fromEntries(
      Object.entries({
        USERS_SERVICE_URL: 'http://127.0.0.1:9',
        USERS_SERVICE_TIMEOUT_MS: 100,
        USERS_SERVICE_ATTEMPT_TIMEOUT_MS: 100,
      }).filter(([key]) => variablesOf(name).includes(key)),
    );
    const app: INestApplication = await createTestApp(
      service.module(testConfig(service.config, unreachablePeers)),
    );
    try {
      await request(app.getHttpServer()).get(LIVE).expect(200);
      await request(app.getHttpServer()).get(READY).expect(200);
    } finally {
      await app.close();
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile').replace(/\\\n\s*/g, ' ');
  /** The instructions of one build stage, by the stage's name. */
  function stage(name: string): string[] {
    const stages = dockerfile.split(/^FROM /m).slice(1);
    const found = stages.find((s) =>
      new RegExp(`^\\S+ AS ${name}\\s*$`, 'm').test(s.split('\n')[0]),
    );
    if (!found) throw new Error(`No stage ${name}`);
    return found
      .split('\n')
      .filter((line) => line.trim() && !line.startsWith('#'));
  }

  it.each(APP_NAMES)(
    'has a %s target running the built entry file on the app port',
    (name) => {
      const lines = stage(name);
      expect(lines[0]).toMatch(new RegExp(`^runtime AS ${name}$`));
      expect(lines).toContain(`CMD ["node", "dist/apps/${name}/main.js"]`);
      expect(existsSync(builtMain(name))).toBe(true);
      expect(lines).toContain(
        `COPY --from=build /app/dist/apps/${name} ./dist/apps/${name}`,
      );
      expect(lines).toContain(`ENV ${APPS[name].portVar}=${APPS[name].port}`);
      expect(lines).toContain(`EXPOSE ${APPS[name].port}`);
      const healthcheck = lines.find((l) => l.startsWith('HEALTHCHECK'))!;
      expect(healthcheck).toContain(`process.env.${APPS[name].portVar}`);
      expect(healthcheck).toContain(`'${LIVE}'`);
    },
  );

  it('runs as the unprivileged node user in production mode, which cannot change the code', () => {
    const runtime = stage('runtime');
    expect(runtime).toContain('USER node');
    expect(runtime).toContain('ENV NODE_ENV=production');
    for (const name of ['runtime', ...APP_NAMES])
      expect(stage(name).filter((line) => line.includes('--chown'))).toEqual(
        [],
      );
  });

  it("has a pgbouncer target: Debian's PgBouncer as its postgres user, on the pgbouncer.ini compose and the manifests mount", () => {
    const lines = stage('pgbouncer');
    expect(dockerfile).toMatch(/^ARG DEBIAN_IMAGE=debian:bookworm-slim$/m);
    expect(lines[0]).toBe('${DEBIAN_IMAGE} AS pgbouncer');
    // Only PgBouncer and what it needs, and no package lists or downloaded packages left.
    expect(lines.map((line) => line.replace(/\s+/g, ' '))).toContain(
      'RUN apt-get update && apt-get install -y --no-install-recommends pgbouncer && apt-get clean && rm -rf /var/lib/apt/lists/*',
    );
    expect(lines).toContain('USER postgres');
    expect(lines).toContain(`EXPOSE ${PGBOUNCER_PORT}`);
    // PgBouncer's safe shutdown (SIGTERM is its immediate one).
    expect(lines).toContain('STOPSIGNAL SIGINT');
    expect(lines).toContain(`CMD ["pgbouncer", "${PGBOUNCER_INI}"]`);
  });

  it('installs into the runtime image only the production dependencies the bundles load', () => {
    const deps = stage('runtime-deps');
    expect(deps).toContain(
      'RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force',
    );
    // The prune reads the bundles: it must run on the ones the build stage made.
    expect(deps.slice(-2)).toEqual([
      'COPY --from=build /app/dist ./dist',
      'RUN node scripts/runtime-deps.cjs prune',
    ]);
    expect(stage('runtime').join('\n')).toContain(
      'COPY --from=runtime-deps /app/node_modules ./node_modules',
    );
  });

  it.each(APP_NAMES)(
    'has every package the %s bundle loads among the production dependencies',
    (name) => {
      const { dependencies } = JSON.parse(read('package.json')) as {
        dependencies: Record<string, string>;
      };
      const folder = dirname(builtMain(name));
      // Code lines of the bundle and its chunks; comments quote requires of their own.
      const bundled = readdirSync(folder)
        .filter((file) => file.endsWith('.js'))
        .flatMap((file) => readFileSync(join(folder, file), 'utf8').split('\n'))
        .filter((line) => !/^\s*(\*|\/\/)/.test(line))
        .join('\n');
      const packages = [
        ...bundled.matchAll(/require\(["']([^"'.][^"']*)["']\)/g),
      ]
        .map(([, id]) => id)
        .filter((id) => !isBuiltin(id))
        .filter(
          (id) =>
            !OPTIONAL.some((optional) =>
              optional.endsWith('/')
                ? id.startsWith(optional)
                : id === optional || id.startsWith(`${optional}/`),
            ),
        )
        .map((id) =>
          id.startsWith('@')
            ? id.split('/').slice(0, 2).join('/')
            : id.split('/')[0],
        );
      expect(packages).toContain('pino');
      for (const id of new Set(packages))
        expect({
          id,
          declared: id in dependencies,
          keptInImage: runtimePackages.has(`node_modules/${id}`),
        }).toEqual({ id, declared: true, keptInImage: true });
    },
  );
});

/** A config's lines, trimmed, without comments and blank lines. */
const lines = (text: string) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));

/** The bodies of every nginx block opened by `name {`, found by matching braces. */
function nginxBlocks(conf: string, name: string): string[] {
  const bodies: string[] = [];
  const opening = new RegExp(`(^|\\s)${name} \\{`, 'g');
  for (const match of conf.matchAll(opening)) {
    let depth = 0;
    const start = match.index + match[0].length;
    for (let i = start; i < conf.length; i++) {
      if (conf[i] === '{') depth++;
      else if (conf[i] === '}' && depth-- === 0) {
        bodies.push(conf.slice(start, i));
        break;
      }
    }
  }
  return bodies;
}

function nginxBlock(conf: string, name: string): string {
  const [body, ...more] = nginxBlocks(conf, name);
  if (body === undefined || more.length > 0)
    throw new Error(`Not exactly one "${name}" block in nginx.conf`);
  return body;
}

describe('compose.yaml', () => {
  const composeFile = parse(read('compose.yaml')) as {
    services: Record<
      string,
      {
        build: { target: string };
        image: string;
        ports?: string[];
        expose?: string[];
        deploy?: { replicas: number };
        environment: Record<string, string>;
        depends_on?: Record<string, { condition: string }>;
        volumes?: string[];
        stop_grace_period: string;
        read_only?: boolean;
        security_opt?: string[];
        tmpfs?: string[];
        entrypoint?: string[];
        healthcheck?: { test: string[] };
      }
    >;
  };
  // Every service of nest-cli.json has a compose service of its name; one missing is said so.
  const compose = {
    services: new Proxy(composeFile.services, {
      get: (services, name: string) => {
        if (!(name in services))
          throw new Error(
            `No compose service ${name} in compose.yaml: every service runs there too (CONTRIBUTING.md, "Recipe: add a service")`,
          );
        return services[name];
      },
    }),
  };

  it.each(APP_NAMES)(
    'runs two replicas of %s from its target, behind the load balancer that publishes its port',
    (name) => {
      const service = compose.services[name];
      expect(service.build.target).toBe(name);
      expect(service.deploy?.replicas).toBe(2);
      expect(service.ports).toBeUndefined();
      expect(service.expose).toEqual([String(APPS[name].port)]);
      expect(service.environment[APPS[name].portVar]).toBe(
        String(APPS[name].port),
      );
      expect(compose.services.lb.ports).toContain(
        `${APPS[name].port}:${APPS[name].port}`,
      );
    },
  );

  it.each(APP_NAMES)(
    'runs %s on a read-only root file system, without gaining privileges, as Kubernetes does',
    (name) => {
      expect(compose.services[name].read_only).toBe(true);
      expect(compose.services[name].security_opt).toContain(
        'no-new-privileges:true',
      );
    },
  );

  /** A URL of compose.yaml, its password variable resolved. */
  const composeUrl = (value: string | undefined) =>
    new URL(
      (value ?? '').replace('${POSTGRES_PASSWORD:-local-only}', 'local-only'),
    );
  const pgbouncerIni = read('deploy/compose/pgbouncer.ini');

  it.each(APP_NAMES)(
    'gives %s its own database on the postgres service: queries through PgBouncer in transaction mode, migrations directly, once both are healthy',
    (name) => {
      const { environment, depends_on } = compose.services[name];
      const queries = composeUrl(environment.DATABASE_URL);
      const migrations = composeUrl(environment.DATABASE_MIGRATION_URL);
      expect(environment.DATABASE_POOLER).toBe('transaction');
      expect([queries.hostname, Number(queries.port)]).toEqual([
        'pgbouncer',
        PGBOUNCER_PORT,
      ]);
      expect([migrations.hostname, Number(migrations.port)]).toEqual([
        'postgres',
        POSTGRES_PORT,
      ]);
      for (const url of [queries, migrations]) {
        expect(url.pathname).toBe(`/${name}`);
        expect([url.username, url.password]).toEqual(['app', 'local-only']);
      }
      // PgBouncer sends the database where the migrations go.
      expect(databaseEntry(pgbouncerIni, name)).toEqual({
        host: migrations.hostname,
        port: migrations.port,
        dbname: name,
      });
      expect(read('deploy/compose/create-databases.sql')).toContain(
        `CREATE DATABASE ${name};`,
      );
      expect(depends_on?.postgres).toEqual({ condition: 'service_healthy' });
      expect(depends_on?.pgbouncer).toEqual({ condition: 'service_healthy' });
    },
  );

  it('runs PgBouncer from its target, read-only, without gaining privileges, reached only by the services, once postgres is healthy', () => {
    const pgbouncer = compose.services.pgbouncer;
    expect(pgbouncer.build.target).toBe('pgbouncer');
    expect(pgbouncer.image).toMatch(/\/pgbouncer:/);
    expect(pgbouncer.read_only).toBe(true);
    expect(pgbouncer.security_opt).toContain('no-new-privileges:true');
    expect(pgbouncer.ports).toBeUndefined();
    expect(pgbouncer.expose).toEqual([String(PGBOUNCER_PORT)]);
    expect(pgbouncer.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
    });
    expect(pgbouncer.healthcheck?.test).toEqual([
      'CMD',
      'bash',
      '-c',
      `exec 3<>/dev/tcp/127.0.0.1/${PGBOUNCER_PORT}`,
    ]);
  });

  it("gives PgBouncer a pgbouncer.ini that pools per transaction, with a query_timeout no shorter than the services' statement timeout", () => {
    expect(compose.services.pgbouncer.volumes).toEqual([
      `./deploy/compose/pgbouncer.ini:${PGBOUNCER_INI}:ro`,
    ]);
    expectTransactionPooling(
      pgbouncerIni,
      APP_NAMES.map((name) =>
        statementTimeoutMs(name, compose.services[name].environment),
      ),
    );
  });

  it("writes PgBouncer's userlist at start into a tmpfs, where pgbouncer.ini reads it, with the services' user and POSTGRES_PASSWORD", () => {
    const { entrypoint, environment, tmpfs } = compose.services.pgbouncer;
    const authFile = ini(pgbouncerIni).pgbouncer.auth_file;
    expect(tmpfs).toEqual([dirname(authFile)]);
    const script = entrypoint?.[2] ?? '';
    expect(entrypoint?.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    // The user of every service's URL, with the password compose gives PostgreSQL ($$ is $).
    for (const name of APP_NAMES)
      expect(
        composeUrl(compose.services[name].environment.DATABASE_URL).username,
      ).toBe('app');
    expect(script).toContain(`printf '"app" "%s"\\n' `);
    expect(script).toContain('"$$PGBOUNCER_PASSWORD"');
    expect(environment.PGBOUNCER_PASSWORD).toBe(
      compose.services.postgres.environment.POSTGRES_PASSWORD,
    );
    expect(script).toContain(`> ${authFile} &&`);
    // Then what the image's CMD runs, in its place.
    expect(script).toMatch(
      new RegExp(`&& exec pgbouncer ${PGBOUNCER_INI.replace(/\./g, '\\.')}$`),
    );
  });

  it('balances each service with the upstream and server settings the multi-replica test runs', () => {
    const conf = read('deploy/compose/nginx.conf');
    expect(compose.services.lb.volumes).toContain(
      './deploy/compose/nginx.conf:/etc/nginx/nginx.conf:ro',
    );
    for (const name of APP_NAMES) {
      const { port } = APPS[name];
      expect(lines(nginxBlock(conf, `upstream ${name}`))).toEqual([
        `zone ${name} 64k;`,
        `server ${name}:${port} resolve ${UPSTREAM_SERVER_PARAMETERS};`,
        ...UPSTREAM_SETTINGS,
      ]);
      const server = lines(
        nginxBlocks(conf, 'server').find((block) =>
          block.includes(`listen ${port};`),
        ) ?? '',
      );
      expect(server).toEqual([
        `listen ${port};`,
        ...serverSettings(name).map((line) => line.trim()),
      ]);
    }
  });

  it('has nginx close an idle upstream connection before the services would', () => {
    const timeouts = [
      ...read('deploy/compose/nginx.conf').matchAll(
        /^\s*keepalive_timeout (\d+)s;/gm,
      ),
    ].map(([, seconds]) => Number(seconds) * 1000);
    expect(timeouts).toHaveLength(APP_NAMES.length);
    for (const timeout of timeouts)
      expect(timeout).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS);
  });

  it('answers what nginx answers itself as RFC 9457 problems, each with its own status', () => {
    const servers = nginxBlocks(read('deploy/compose/nginx.conf'), 'server');
    expect(servers).toHaveLength(APP_NAMES.length);
    for (const server of servers) {
      const pages = [
        ...server.matchAll(/error_page (\d+) (?:=(\d+) )?(\S+);/g),
      ];
      // Everything nginx would answer itself in HTML: requests it refuses, no replica, its 404.
      expect(
        pages.map(([, caught]) => Number(caught)).sort((a, b) => a - b),
      ).toEqual([400, 404, 413, 414, 494, 502, 503, 504]);
      for (const [, caught, changedTo, target] of pages) {
        const body = nginxBlock(
          server,
          `location ${target.startsWith('/') ? '= ' : ''}${target.replace(/\./g, '\\.')}`,
        );
        expect(body).toContain('default_type application/problem+json;');
        const [, status, json] = /return (\d+) '(.*)';/.exec(body) ?? [];
        expect(status).toBe(changedTo ?? caught);
        expect(JSON.parse(json)).toEqual({
          type: 'about:blank',
          title: STATUS_CODES[Number(status)],
          status: Number(status),
          detail: expect.any(String),
        });
      }
    }
  });

  it.each(APP_NAMES)(
    'sets only variables %s reads, with values it accepts',
    (name) => {
      const { environment } = compose.services[name];
      expect(variablesOf(name)).toEqual(
        expect.arrayContaining(Object.keys(environment)),
      );
      const resolved = Object.fromEntries(
        Object.entries(environment).map(([key, value]) => [
          key,
          value.replace('${POSTGRES_PASSWORD:-local-only}', 'local-only'),
        ]),
      );
      expect(() =>
        loadConfig(APPS[name].service.config, resolved),
      ).not.toThrow();
    },
  );

  it('points orders at the users replicas through the load balancer', () => {
    const url = new URL(compose.services.orders.environment.USERS_SERVICE_URL);
    expect(url.hostname).toBe('lb');
    expect(Number(url.port)).toBe(APPS.users.port);
  });

  it('starts orders once users is healthy, and the load balancer once every service is', () => {
    expect(compose.services.orders.depends_on?.users).toEqual({
      condition: 'service_healthy',
    });
    expect(compose.services.lb.depends_on).toEqual(
      Object.fromEntries(
        APP_NAMES.map((name) => [name, { condition: 'service_healthy' }]),
      ),
    );
  });

  it.each(APP_NAMES)(
    'gives %s longer to stop than its drain and shutdown timeout',
    (name) => {
      const { stop_grace_period, environment } = compose.services[name];
      const seconds = Number(/^(\d+)s$/.exec(stop_grace_period)?.[1]);
      expect(seconds * 1000).toBeGreaterThan(
        shutdownBoundMs(name, environment),
      );
    },
  );
});

describe('Kubernetes manifests (deploy/k8s)', () => {
  interface Manifest {
    kind: string;
    metadata: { name: string };
    data?: Record<string, string>;
    stringData?: Record<string, string>;
    // oxlint-disable-next-line typescript/no-explicit-any -- as the YAML has it; kubernetes-manifests.e2e-spec.ts checks its shape
    spec?: any;
  }
  const kustomization = parse(read('deploy/k8s/kustomization.yaml')) as {
    resources: string[];
  };
  const manifests: Manifest[] = kustomization.resources.flatMap((file) =>
    parseAllDocuments(read(join('deploy/k8s', file))).map(
      (doc) => doc.toJS() as Manifest,
    ),
  );
  const find = (kind: string, name: string) => {
    const found = manifests.find(
      (m) => m.kind === kind && m.metadata.name === name,
    );
    if (!found)
      throw new Error(
        `No ${kind} ${name} in deploy/k8s: every service has its manifests (CONTRIBUTING.md, "Recipe: add a service")`,
      );
    return found;
  };

  describe.each(APP_NAMES)('%s', (name) => {
    // Found per test, not while the tests are collected: a service without manifests fails its
    // own tests, saying what is missing, and leaves the others to run.
    let deployment: Manifest;
    let pod: NonNullable<Manifest['spec']>;
    let container: NonNullable<Manifest['spec']>;
    let configMap: Manifest;
    beforeEach(() => {
      deployment = find('Deployment', name);
      pod = deployment.spec.template.spec;
      container = pod.containers[0];
      configMap = find('ConfigMap', container.envFrom[0].configMapRef.name);
    });

    it('runs the app image on the app port', () => {
      expect(container.image).toMatch(new RegExp(`/${name}:`));
      // The image compose.yaml builds from the app's target, and npm run test:image runs.
      const composed = parse(read('compose.yaml')) as {
        services: Record<string, { image: string; build: { target: string } }>;
      };
      expect(composed.services[name]).toMatchObject({
        image: container.image,
        build: { target: name },
      });
      expect(container.ports).toEqual([
        { name: 'http', containerPort: APPS[name].port },
      ]);
    });

    it('probes liveness and readiness on the health routes', () => {
      expect(container.livenessProbe.httpGet).toEqual({
        path: LIVE,
        port: 'http',
      });
      expect(container.readinessProbe.httpGet).toEqual({
        path: READY,
        port: 'http',
      });
    });

    it('sets resource requests and limits', () => {
      expectRequestsAndLimits(container);
    });

    it('takes its environment from a ConfigMap with variables the app reads and accepts', () => {
      expect(variablesOf(name)).toEqual(
        expect.arrayContaining(Object.keys(configMap.data!)),
      );
      expect(configMap.data![APPS[name].portVar]).toBe(String(APPS[name].port));
      expect(() =>
        loadConfig(APPS[name].service.config, configMap.data),
      ).not.toThrow();
    });

    it('gives a pod longer to terminate than its drain and shutdown timeout', () => {
      expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(
        shutdownBoundMs(name, configMap.data!),
      );
    });

    it('runs as a non-root user', () => {
      expect(pod.securityContext.runAsNonRoot).toBe(true);
    });

    it('runs every container on a read-only root file system, without gaining privileges', () => {
      for (const each of [...(pod.initContainers ?? []), ...pod.containers])
        expect(each.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
        });
    });

    it('has a Service selecting the pods, on the named port', () => {
      const service = find('Service', name);
      expect(service.spec.selector).toEqual(
        deployment.spec.selector.matchLabels,
      );
      expect(service.spec.ports).toEqual([
        { name: 'http', port: APPS[name].port, targetPort: 'http' },
      ]);
    });

    it('runs two replicas, and keeps one through voluntary disruptions', () => {
      expect(deployment.spec.replicas).toBe(2);
      const budget = find('PodDisruptionBudget', name);
      expect(budget.spec.minAvailable).toBe(1);
      expect(budget.spec.selector).toEqual(deployment.spec.selector);
    });

    it('takes its database URLs from a Secret, and migrates in an init container, not at start', () => {
      const fromSecret = (variable: string, key: string) => ({
        name: variable,
        valueFrom: { secretKeyRef: { name: `${name}-database`, key } },
      });
      expect(container.env).toEqual([
        fromSecret('DATABASE_URL', 'url'),
        fromSecret('DATABASE_MIGRATION_URL', 'migration-url'),
      ]);
      find('Secret', `${name}-database`);
      expect(configMap.data!.DATABASE_MIGRATE_AT_START).toBe('false');
      const [init] = pod.initContainers;
      expect(init.image).toBe(container.image);
      expect(init.command).toEqual([
        'node',
        `dist/apps/${name}/main.js`,
        'migrate',
      ]);
      // The migrations on PostgreSQL itself, not through PgBouncer.
      expect(init.env).toEqual([fromSecret('DATABASE_URL', 'migration-url')]);
      expect(init.envFrom).toEqual(container.envFrom);
    });

    it('sends its queries through the pgbouncer Service in transaction mode, its migrations to PostgreSQL directly', () => {
      const { stringData } = find('Secret', `${name}-database`);
      const queries = new URL(stringData!.url);
      const migrations = new URL(stringData!['migration-url']);
      const service = find('Service', 'pgbouncer');
      expect(configMap.data!.DATABASE_POOLER).toBe('transaction');
      expect([queries.hostname, Number(queries.port)]).toEqual([
        service.metadata.name,
        service.spec.ports[0].port,
      ]);
      expect([migrations.hostname, Number(migrations.port)]).toEqual([
        'postgres',
        POSTGRES_PORT,
      ]);
      expect(queries.pathname).toBe(`/${name}`);
      expect(migrations.pathname).toBe(queries.pathname);
      expect([migrations.username, migrations.password]).toEqual([
        queries.username,
        queries.password,
      ]);
      // PgBouncer sends the database where the migrations go, and knows the user and password.
      const pgbouncerIni = find('ConfigMap', 'pgbouncer-config').data![
        'pgbouncer.ini'
      ];
      expect(databaseEntry(pgbouncerIni, name)).toEqual({
        host: migrations.hostname,
        port: migrations.port,
        dbname: name,
      });
      expect(userlist()).toContainEqual([
        decodeURIComponent(queries.username),
        decodeURIComponent(queries.password),
      ]);
    });
  });

  /** The Secret mounted where pgbouncer.ini's auth_file is, and that file's key in it. */
  function userlistSecret(): { secret: Manifest; key: string } {
    const pod = find('Deployment', 'pgbouncer').spec.template.spec;
    const authFile = ini(
      find('ConfigMap', 'pgbouncer-config').data!['pgbouncer.ini'],
    ).pgbouncer.auth_file;
    const mount = pod.containers[0].volumeMounts.find(
      (each: { mountPath: string }) => each.mountPath === dirname(authFile),
    );
    const volume = pod.volumes.find(
      (each: { name: string }) => each.name === mount?.name,
    );
    return {
      secret: find('Secret', volume?.secret?.secretName),
      key: basename(authFile),
    };
  }

  /** The userlist's users and passwords, `"user" "password"` a line (`""` is a quote). */
  function userlist(): string[][] {
    const { secret, key } = userlistSecret();
    return (secret.stringData?.[key] ?? '')
      .split('\n')
      .filter((line) => line.trim())
      .map((line) =>
        [...line.matchAll(/"((?:[^"]|"")*)"/g)].map(([, value]) =>
          value.replace(/""/g, '"'),
        ),
      );
  }

  describe('pgbouncer', () => {
    let deployment: Manifest;
    let pod: NonNullable<Manifest['spec']>;
    let container: NonNullable<Manifest['spec']>;
    let pgbouncerIni: string;
    beforeEach(() => {
      deployment = find('Deployment', 'pgbouncer');
      pod = deployment.spec.template.spec;
      container = pod.containers[0];
      pgbouncerIni = find('ConfigMap', 'pgbouncer-config').data![
        'pgbouncer.ini'
      ];
    });

    it('runs the image compose builds from the pgbouncer target, on the port its pgbouncer.ini listens on, behind a Service', () => {
      const composed = parse(read('compose.yaml')) as {
        services: Record<string, { image: string; build: { target: string } }>;
      };
      expect(composed.services.pgbouncer).toMatchObject({
        image: container.image,
        build: { target: 'pgbouncer' },
      });
      expect(container.ports).toEqual([
        { name: 'pgbouncer', containerPort: PGBOUNCER_PORT },
      ]);
      const service = find('Service', 'pgbouncer');
      expect(service.spec.selector).toEqual(
        deployment.spec.selector.matchLabels,
      );
      expect(service.spec.ports).toEqual([
        { name: 'pgbouncer', port: PGBOUNCER_PORT, targetPort: 'pgbouncer' },
      ]);
    });

    it("pools per transaction, with a query_timeout no shorter than the services' statement timeout", () => {
      expectTransactionPooling(
        pgbouncerIni,
        APP_NAMES.map((name) => {
          const app = find('Deployment', name).spec.template.spec.containers[0];
          return statementTimeoutMs(
            name,
            find('ConfigMap', app.envFrom[0].configMapRef.name).data!,
          );
        }),
      );
    });

    it("mounts the ConfigMap's pgbouncer.ini where the image's CMD reads it, and the Secret's userlist where that file says", () => {
      const mountOf = (volume: { name: string }) =>
        container.volumeMounts.find(
          (each: { name: string }) => each.name === volume.name,
        );
      const config = pod.volumes.find(
        (each: { configMap?: { name: string } }) =>
          each.configMap?.name === 'pgbouncer-config',
      );
      expect(mountOf(config)).toEqual({
        name: config.name,
        mountPath: dirname(PGBOUNCER_INI),
        readOnly: true,
      });
      expect(Object.keys(find('ConfigMap', 'pgbouncer-config').data!)).toEqual([
        basename(PGBOUNCER_INI),
      ]);
      const { secret, key } = userlistSecret();
      expect(Object.keys(secret.stringData ?? {})).toEqual([key]);
      // One line a service, as the services' own Secrets say.
      expect(userlist()).toHaveLength(APP_NAMES.length);
      for (const line of userlist()) expect(line).toHaveLength(2);
    });

    it('probes liveness and readiness on its port, with resource requests and limits', () => {
      for (const probe of [container.livenessProbe, container.readinessProbe])
        expect(probe.tcpSocket).toEqual({ port: 'pgbouncer' });
      expectRequestsAndLimits(container);
    });

    it("runs as its image's non-root user, given as a number, on a read-only root file system, without gaining privileges", () => {
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      // The image's postgres user: npm run test:image checks the number.
      expect(pod.securityContext.runAsUser).toEqual(expect.any(Number));
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(container.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
      });
    });

    it('runs two replicas, and keeps one through voluntary disruptions', () => {
      expect(deployment.spec.replicas).toBe(2);
      const budget = find('PodDisruptionBudget', 'pgbouncer');
      expect(budget.spec.minAvailable).toBe(1);
      expect(budget.spec.selector).toEqual(deployment.spec.selector);
    });
  });

  it('points orders at the users Service', () => {
    const url = new URL(
      find('ConfigMap', 'orders-config').data!.USERS_SERVICE_URL,
    );
    const users = find('Service', 'users');
    expect(url.hostname).toBe(users.metadata.name);
    expect(Number(url.port)).toBe(users.spec.ports[0].port);
  });
});
