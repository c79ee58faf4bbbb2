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
import { dirname, join } from 'node:path';
import request from 'supertest';
import { parse, parseAllDocuments } from 'yaml';
import { serviceDefinitions } from './service-definitions';
// The packages the bundles may look for without their being installed (see rspack.config.js).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { OPTIONAL } = require('../rspack.config.js') as { OPTIONAL: string[] };
// What the runtime image keeps of node_modules (the Dockerfile's runtime-deps stage).
const runtimePackages =
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (
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

  it.each(APP_NAMES)(
    'gives %s its own database on the postgres service, once it is healthy',
    (name) => {
      const { environment, depends_on } = compose.services[name];
      const url = new URL(
        environment.DATABASE_URL.replace(
          '${POSTGRES_PASSWORD:-local-only}',
          'pw',
        ),
      );
      expect(url.hostname).toBe('postgres');
      expect(url.pathname).toBe(`/${name}`);
      expect(read('deploy/compose/create-databases.sql')).toContain(
        `CREATE DATABASE ${name};`,
      );
      expect(depends_on?.postgres).toEqual({ condition: 'service_healthy' });
    },
  );

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

  it('starts orders once users is healthy, and the load balancer once both are', () => {
    expect(compose.services.orders.depends_on?.users).toEqual({
      condition: 'service_healthy',
    });
    expect(compose.services.lb.depends_on).toEqual({
      users: { condition: 'service_healthy' },
      orders: { condition: 'service_healthy' },
    });
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
      expect(container.resources.requests).toEqual({
        cpu: expect.any(String),
        memory: expect.any(String),
      });
      expect(container.resources.limits).toEqual({
        cpu: expect.any(String),
        memory: expect.any(String),
      });
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

    it('takes DATABASE_URL from a Secret, and migrates in an init container, not at start', () => {
      const fromSecret = {
        name: 'DATABASE_URL',
        valueFrom: { secretKeyRef: { name: `${name}-database`, key: 'url' } },
      };
      expect(container.env).toEqual([fromSecret]);
      find('Secret', `${name}-database`);
      expect(configMap.data!.DATABASE_MIGRATE_AT_START).toBe('false');
      const [init] = pod.initContainers;
      expect(init.image).toBe(container.image);
      expect(init.command).toEqual([
        'node',
        `dist/apps/${name}/main.js`,
        'migrate',
      ]);
      expect(init.env).toEqual([fromSecret]);
      expect(init.envFrom).toEqual(container.envFrom);
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
