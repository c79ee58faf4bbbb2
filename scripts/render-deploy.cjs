'use strict';
// What the deployment files need of each service, written from nest-cli.json's applications and
// their ServiceDefinitions (name, port variable and default, the peers their config names), so a
// new service is not copied into a dozen files by hand: `npm run render:deploy` writes them, and
// `--check` (test/render-deploy.e2e-spec.ts) exits 1 naming each file that is stale.
//
// Whole files: each service's Kubernetes manifest (deploy/k8s/<name>.yaml) and compose's
// create-databases.sql. Elsewhere only the blocks between the two marker comments
// `>>> render:deploy <block>` and `<<< render:deploy <block>`: the rest of those files, and what
// the blocks share, is written by hand. A peer is another service whose URL variable
// (`<PEER>_SERVICE_URL`) the service's config reads.
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { parse } = require('yaml');
const { ROOT, services } = require('./services.cjs');
const { serviceFacts } = require('./config-reference.cjs');

/** Each service with the services it calls, and its objectives (`<root>/slo.yaml`). */
function servicesWithPeers() {
  const facts = serviceFacts();
  const roots = new Map(services().map(({ name, root }) => [name, root]));
  return facts.map((service) => ({
    ...service,
    slo: sloOf(roots.get(service.name)),
    peers: facts.filter(
      (peer) =>
        peer.name !== service.name &&
        service.variables.includes(serviceUrlVariable(peer)),
    ),
  }));
}

const serviceUrlVariable = (peer) => `${peer.name.toUpperCase()}_SERVICE_URL`;
/** A peer's timeout in the deployments: above the default, for a call that crosses a network. */
const peerTimeout = (service, peer) => {
  const variable = `${peer.name.toUpperCase()}_SERVICE_TIMEOUT_MS`;
  return service.variables.includes(variable) ? [`${variable}: '2000'`] : [];
};

const lines = (...parts) => parts.flat().join('\n');
const indent = (text, by) =>
  text
    .split('\n')
    .map((line) => (line ? ' '.repeat(by) + line : line))
    .join('\n');

function dockerTarget({ name, port, portVariable }) {
  return lines(
    `FROM runtime AS ${name}`,
    `COPY --from=build /app/dist/apps/${name} ./dist/apps/${name}`,
    `ENV ${portVariable}=${port}`,
    `EXPOSE ${port}`,
    'HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \\',
    `  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.${portVariable} + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]`,
    `CMD ["node", "dist/apps/${name}/main.js"]`,
  );
}

function composeService(service) {
  const { name, port, portVariable, peers } = service;
  const password = '${POSTGRES_PASSWORD:-local-only}';
  return lines(
    `${name}:`,
    '  build:',
    '    context: .',
    `    target: ${name}`,
    `  image: users-orders/${name}:0.1.0`,
    '  deploy:',
    '    replicas: 2',
    '  read_only: true',
    '  security_opt:',
    '    - no-new-privileges:true',
    '  expose:',
    `    - '${port}'`,
    '  environment:',
    `    ${portVariable}: '${port}'`,
    peers.flatMap((peer) => [
      `    # Through the load balancer, so ${name} reaches every ${peer.name} replica.`,
      `    ${serviceUrlVariable(peer)}: http://lb:${peer.port}`,
      ...peerTimeout(service, peer).map((line) => `    ${line}`),
    ]),
    '    # Queries through PgBouncer, in transaction mode: no session setting sent at connect.',
    `    DATABASE_URL: postgres://app:${password}@pgbouncer:6432/${name}`,
    '    DATABASE_POOLER: transaction',
    '    # Migrations (at start, under their lock) on PostgreSQL itself.',
    `    DATABASE_MIGRATION_URL: postgres://app:${password}@postgres:5432/${name}`,
    "    TRUST_PROXY: '1'",
    '    LOG_LEVEL: info',
    "    SHUTDOWN_DRAIN_MS: '5000'",
    "    SHUTDOWN_TIMEOUT_MS: '10000'",
    '  depends_on:',
    '    postgres:',
    '      condition: service_healthy',
    '    pgbouncer:',
    '      condition: service_healthy',
    peers.flatMap((peer) => [
      `    ${peer.name}:`,
      '      condition: service_healthy',
    ]),
    '  stop_grace_period: 20s',
  );
}

function nginxUpstream({ name, port }) {
  return lines(
    `upstream ${name} {`,
    `  zone ${name} 64k;`,
    `  server ${name}:${port} resolve max_fails=0;`,
    '  keepalive 32;',
    '  keepalive_timeout 4s;',
    '}',
  );
}

/** One problem+json answer of nginx's own, by its location and status. */
function nginxAnswer(
  location,
  status,
  title,
  detail,
  { internal, retry } = {},
) {
  const body = JSON.stringify({ type: 'about:blank', title, status, detail });
  return lines(
    `location ${location} {`,
    internal ? ['  internal;'] : [],
    '  types { }',
    '  default_type application/problem+json;',
    retry ? ['  add_header Retry-After 1 always;'] : [],
    `  return ${status} '${body}';`,
    '}',
  );
}

function nginxServer({ name, port }) {
  return lines(
    'server {',
    `  listen ${port};`,
    '  error_page 400 /.load-balancer/bad_request;',
    '  error_page 414 /.load-balancer/uri_too_long;',
    '  error_page 404 @not_found;',
    '  error_page 413 @too_large;',
    '  error_page 494 =431 @headers_too_large;',
    '  error_page 502 @bad_gateway;',
    '  error_page 503 @unavailable;',
    '  error_page 504 @timeout;',
    '  location / {',
    `    proxy_pass http://${name};`,
    '    proxy_http_version 1.1;',
    '    proxy_set_header Connection "";',
    '    proxy_set_header Host $host;',
    '    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    '    proxy_next_upstream error timeout;',
    '    proxy_next_upstream_tries 2;',
    '    proxy_connect_timeout 2s;',
    '  }',
    indent(
      lines(
        nginxAnswer(
          '= /.load-balancer/bad_request',
          400,
          'Bad Request',
          'The load balancer could not read the request.',
          { internal: true },
        ),
        nginxAnswer(
          '= /.load-balancer/uri_too_long',
          414,
          'URI Too Long',
          'The request URI is longer than the load balancer takes (8 kB).',
          { internal: true },
        ),
        nginxAnswer(
          '@not_found',
          404,
          'Not Found',
          'The load balancer has nothing at this URI.',
        ),
        nginxAnswer(
          '@too_large',
          413,
          'Payload Too Large',
          'The request body is larger than the load balancer takes (1 MB).',
        ),
        nginxAnswer(
          '@headers_too_large',
          431,
          'Request Header Fields Too Large',
          'The request headers are larger than the load balancer takes.',
        ),
        nginxAnswer(
          '@bad_gateway',
          502,
          'Bad Gateway',
          'No replica of the service could be reached; try again shortly.',
          { retry: true },
        ),
        nginxAnswer(
          '@unavailable',
          503,
          'Service Unavailable',
          'The load balancer cannot take the request now; try again shortly.',
          { retry: true },
        ),
        nginxAnswer(
          '@timeout',
          504,
          'Gateway Timeout',
          'No replica of the service answered in time.',
        ),
      ),
      2,
    ),
    '}',
  );
}

/** A container's variable from the service's database Secret (at the container's indentation). */
const fromSecret = (variable, secret, key) => [
  `  - name: ${variable}`,
  '    valueFrom:',
  '      secretKeyRef:',
  `        name: ${secret}`,
  `        key: ${key}`,
];

/** What both of a pod's containers have: the image, the ConfigMap, CPU and memory, no writes. */
const container = (image, config, { cpu, memory }, body) =>
  indent(
    lines(
      `image: ${image}`,
      'imagePullPolicy: IfNotPresent',
      body.command ?? [],
      'envFrom:',
      '  - configMapRef:',
      `      name: ${config}`,
      'env:',
      body.env,
      body.rest ?? [],
      'resources:',
      '  requests:',
      `    cpu: ${cpu}`,
      `    memory: ${memory}`,
      '  limits:',
      '    cpu: 500m',
      '    memory: 256Mi',
      'securityContext:',
      '  allowPrivilegeEscalation: false',
      '  readOnlyRootFilesystem: true',
    ),
    10,
  );

function k8sManifest(service) {
  const { name, port, portVariable, peers } = service;
  const config = `${name}-config`;
  const secret = `${name}-database`;
  const image = `users-orders/${name}:0.1.0`;
  return lines(
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    `  name: ${config}`,
    'data:',
    `  ${portVariable}: '${port}'`,
    peers.flatMap((peer) => [
      `  ${serviceUrlVariable(peer)}: http://${peer.name}:${peer.port}`,
      ...peerTimeout(service, peer).map((line) => `  ${line}`),
    ]),
    '  # Whose X-Forwarded-For names the client (rate limit, logs): here one hop, the ingress',
    '  # controller. A hop count believes whoever connects, so unless a NetworkPolicy lets only the',
    "  # ingress reach these pods, list the ingress controller's pod addresses instead (e.g.",
    '  # 10.244.0.0/16); with a cloud load balancer that adds a hop before the ingress, 2; with no',
    '  # ingress at all (port-forward only), leave it empty.',
    "  TRUST_PROXY: '1'",
    '  LOG_LEVEL: info',
    "  SHUTDOWN_DRAIN_MS: '5000'",
    "  SHUTDOWN_TIMEOUT_MS: '10000'",
    '  # The init container applies migrations before the app starts (see below).',
    "  DATABASE_MIGRATE_AT_START: 'false'",
    '  # Queries go through PgBouncer in transaction pooling mode (pgbouncer.yaml): no session setting',
    "  # is sent at connect, and the statement timeout is PgBouncer's query_timeout.",
    "  DATABASE_POOLER: 'transaction'",
    '---',
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    `  name: ${name}`,
    '  labels:',
    `    app.kubernetes.io/name: ${name}`,
    'spec:',
    '  # Stateless processes: the data is in PostgreSQL, reached through PgBouncer (DATABASE_URL from',
    '  # the Secret).',
    '  replicas: 2',
    '  selector:',
    '    matchLabels:',
    `      app.kubernetes.io/name: ${name}`,
    '  template:',
    '    metadata:',
    '      labels:',
    `        app.kubernetes.io/name: ${name}`,
    '    spec:',
    '      # Above SHUTDOWN_DRAIN_MS + SHUTDOWN_TIMEOUT_MS (15 s), so Kubernetes never kills a drain.',
    '      terminationGracePeriodSeconds: 20',
    '      securityContext:',
    '        runAsNonRoot: true',
    '        runAsUser: 1000',
    "      # Migrations as their own step, under the migrator's lock: of pods starting together one",
    '      # applies them, the others find nothing to do; a failed migration keeps the old pods serving.',
    "      # They run on PostgreSQL itself (the Secret's migration-url), not through PgBouncer.",
    '      initContainers:',
    '        - name: migrate',
    container(
      image,
      config,
      { cpu: '50m', memory: '64Mi' },
      {
        command: [`command: ['node', 'dist/apps/${name}/main.js', 'migrate']`],
        env: fromSecret('DATABASE_URL', secret, 'migration-url'),
      },
    ),
    '      containers:',
    `        - name: ${name}`,
    container(
      image,
      config,
      { cpu: '100m', memory: '128Mi' },
      {
        env: [
          ...fromSecret('DATABASE_URL', secret, 'url'),
          '  # Where migrations would run with DATABASE_MIGRATE_AT_START=true: PostgreSQL itself.',
          ...fromSecret('DATABASE_MIGRATION_URL', secret, 'migration-url'),
        ],
        rest: [
          'ports:',
          '  - name: http',
          `    containerPort: ${port}`,
          'livenessProbe:',
          '  httpGet:',
          '    path: /health/live',
          '    port: http',
          '  periodSeconds: 10',
          '  failureThreshold: 3',
          'readinessProbe:',
          '  httpGet:',
          '    path: /health/ready',
          '    port: http',
          '  periodSeconds: 5',
          '  failureThreshold: 1',
        ],
      },
    ),
    '---',
    'apiVersion: v1',
    'kind: Service',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    '  selector:',
    `    app.kubernetes.io/name: ${name}`,
    '  ports:',
    '    - name: http',
    `      port: ${port}`,
    '      targetPort: http',
    '---',
    '# Keeps one pod serving through voluntary disruptions (node drains, upgrades).',
    'apiVersion: policy/v1',
    'kind: PodDisruptionBudget',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    '  minAvailable: 1',
    '  selector:',
    '    matchLabels:',
    `      app.kubernetes.io/name: ${name}`,
    '---',
    '# The database URLs, with the password: `url` through PgBouncer (pgbouncer.yaml), for queries;',
    "# `migration-url` to PostgreSQL itself, for migrations. Create it from your database's",
    '# credentials, e.g.',
    `#   kubectl create secret generic ${secret} \\`,
    `#     --from-literal=url='postgres://...@pgbouncer:6432/${name}' \\`,
    `#     --from-literal=migration-url='postgres://...@postgres:5432/${name}'`,
    '# These placeholders point at a PostgreSQL you provide (a managed database or an operator such as',
    "# CloudNativePG), as PgBouncer's [databases] do; the manifests deliberately contain no database",
    '# server.',
    'apiVersion: v1',
    'kind: Secret',
    'metadata:',
    `  name: ${secret}`,
    'type: Opaque',
    'stringData:',
    `  url: postgres://${name}:change-me@pgbouncer:6432/${name}`,
    `  migration-url: postgres://${name}:change-me@postgres:5432/${name}`,
    '',
  );
}

/** PgBouncer's [databases]: each service's database, on compose's and the manifests' postgres. */
const pgbouncerDatabases = (services) =>
  services
    .map(({ name }) => `${name} = host=postgres port=5432 dbname=${name}`)
    .join('\n');

/**
 * A service's objectives: decisions, so written by hand, in its own folder, each with its reason.
 * A service without them cannot be deployed: nothing would say when it is unhealthy.
 */
function sloOf(root) {
  const file = join(root, 'slo.yaml');
  let text;
  try {
    text = readFileSync(join(ROOT, file), 'utf8');
  } catch {
    throw new Error(
      `${file} is missing: every service states its objectives (CONTRIBUTING.md, "Recipe: add a service")`,
    );
  }
  const slo = parse(text);
  const thresholds = slo?.latency?.thresholds;
  if (
    typeof slo?.availability?.objective !== 'number' ||
    typeof slo?.latency?.objective !== 'number' ||
    !Array.isArray(thresholds) ||
    thresholds.length === 0 ||
    !thresholds.every(
      (threshold) =>
        typeof threshold.le === 'string' &&
        Array.isArray(threshold.match) &&
        threshold.match.every((selector) => /^route="[^"]+"/.test(selector)),
    )
  )
    throw new Error(
      `${file}: needs availability.objective, latency.objective and latency.thresholds, each with le (a bucket boundary, as a string) and match (selectors that start with route="...")`,
    );
  return slo;
}

/** The API routes of a service, as its thresholds' selectors name them, sorted. */
const apiRoutes = ({ slo }) =>
  [
    ...new Set(
      slo.latency.thresholds.flatMap(({ match }) =>
        match.map((selector) => /^route="([^"]+)"/.exec(selector)[1]),
      ),
    ),
  ].sort();

const percent = (ratio) => `${Number((ratio * 100).toFixed(4))}%`;
const milliseconds = (le) => `${Math.round(Number(le) * 1000)} ms`;

/** The SLIs of one window: availability for every service in one rule, latency one per service. */
function slis(services, window) {
  const routes = services.flatMap(apiRoutes).join('|');
  const count = (selector) =>
    `sum by (service) (rate(http_request_duration_seconds_count{${selector}}[${window}]))`;
  const availability = lines(
    `- record: slo:sli_error:ratio_rate${window}`,
    '  labels: { slo: availability }',
    '  expr: |',
    '    (',
    `      ${count(`route=~"${routes}", status_code=~"5.."`)}`,
    '      or',
    `      0 * ${count(`route=~"${routes}"`)}`,
    '    )',
    '    /',
    `    ${count(`route=~"${routes}"`)}`,
  );
  const latency = (service) =>
    lines(
      `- record: slo:sli_error:ratio_rate${window}`,
      `  labels: { service: ${service.name}, slo: latency }`,
      '  expr: |',
      '    1 - (',
      '      sum by (service) (',
      service.slo.latency.thresholds
        .flatMap(({ match, le }) =>
          match.map(
            (selector) =>
              `        rate(http_request_duration_seconds_bucket{service="${service.name}", ${selector}, le="${le}"}[${window}])`,
          ),
        )
        .join('\n        or\n'),
      '      )',
      '      /',
      `      ${count(`service="${service.name}", route=~"${apiRoutes(service).join('|')}"`)}`,
      '    )',
    );
  return [availability, ...services.map(latency)].join('\n');
}

/** A markdown table as prettier aligns it (every cell here is one column wide a character). */
function table(header, rows) {
  const widths = header.map((cell, column) =>
    Math.max(3, cell.length, ...rows.map((row) => row[column].length)),
  );
  const row = (cells) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column])).join(' | ')} |`;
  return lines(
    row(header),
    row(widths.map((width) => '-'.repeat(width))),
    rows.map(row),
  );
}

/** docs/operations.md's tables of the objectives and the thresholds, with their reasons. */
function sloTables(services) {
  const MONTH_MINUTES = 30 * 24 * 60;
  const objectives = table(
    ['SLO', 'Objective', 'Budget (30 days)', 'Why'],
    [
      ...services.map(({ name, slo }) => [
        `${name} availability`,
        percent(slo.availability.objective),
        `${percent(1 - slo.availability.objective)} of requests, ≈ ${Math.round((1 - slo.availability.objective) * MONTH_MINUTES)} minutes`,
        slo.availability.why,
      ]),
      ...services.map(({ name, slo }) => [
        `${name} latency`,
        percent(slo.latency.objective),
        `${percent(1 - slo.latency.objective)} of requests slow`,
        slo.latency.why,
      ]),
    ],
  );
  const thresholds = table(
    ['Route group', 'Threshold', 'Why'],
    services.flatMap(({ slo }) =>
      slo.latency.thresholds.map(({ routes, le, why }) => [
        routes
          .split(',')
          .map((route) => `\`${route.trim()}\``)
          .join(', '),
        milliseconds(le),
        why,
      ]),
    ),
  );
  return `\n${objectives}\n\n${thresholds}\n`;
}

/** A job name alternation for PromQL and Grafana: `users|orders`. */
const jobs = (services) => services.map(({ name }) => name).join('|');

/**
 * Every file this writes, as a function of the services: `whole` files, or `blocks` between the
 * markers (with the comment that starts a line in that file; a block takes its marker's
 * indentation), and `replace`ments of what names the services inside text that cannot hold a
 * marker.
 */
const PIECES = [
  {
    file: 'Dockerfile',
    comment: '#',
    blocks: {
      targets: (services) => services.map(dockerTarget).join('\n\n'),
    },
  },
  {
    file: 'compose.yaml',
    comment: '#',
    blocks: {
      'postgres-ready': (services) =>
        `- ${services.map(({ name }) => `pg_isready -U app -d ${name}`).join(' && ')}`,
      services: (services) => services.map(composeService).join('\n\n'),
      'lb-ports': (services) =>
        services.map(({ port }) => `- '${port}:${port}'`).join('\n'),
      'lb-depends': (services) =>
        services
          .map(({ name }) => `${name}:\n  condition: service_healthy`)
          .join('\n'),
    },
  },
  {
    file: 'deploy/compose/nginx.conf',
    comment: '#',
    blocks: {
      upstreams: (services) => services.map(nginxUpstream).join('\n'),
      servers: (services) => services.map(nginxServer).join('\n\n'),
    },
  },
  {
    file: 'deploy/compose/create-databases.sql',
    whole: (services) =>
      lines(
        "-- One database per service, created once on an empty volume by the postgres image's entrypoint.",
        '-- Written by npm run render:deploy from nest-cli.json.',
        services.map(({ name }) => `CREATE DATABASE ${name};`),
        '',
      ),
  },
  {
    file: 'deploy/compose/pgbouncer.ini',
    comment: ';',
    blocks: {
      databases: pgbouncerDatabases,
    },
  },
  {
    file: 'deploy/k8s/pgbouncer.yaml',
    comment: ';',
    blocks: {
      databases: pgbouncerDatabases,
    },
    replace: [
      // The placeholder Secret's userlist, a user per service as the services' own Secrets name
      // them: a file PgBouncer reads, where a marker comment would be a line of it.
      [
        /(userlist\.txt: \|\n)(?: {4}"[^"\n]+" "[^"\n]*"\n)+/,
        (services, match) =>
          match.slice(0, match.indexOf('\n') + 1) +
          services.map(({ name }) => `    "${name}" "change-me"\n`).join(''),
      ],
    ],
  },
  {
    file: 'deploy/k8s/kustomization.yaml',
    comment: '#',
    blocks: {
      services: (services) =>
        services.map(({ name }) => `- ${name}.yaml`).join('\n'),
    },
  },
  {
    file: 'deploy/prometheus/prometheus.yml',
    comment: '#',
    blocks: {
      jobs: (services) =>
        services
          .map(({ name, port }) =>
            lines(
              `- job_name: ${name}`,
              '  dns_sd_configs:',
              `    - names: [${name}]`,
              '      type: A',
              `      port: ${port}`,
              '      refresh_interval: 15s',
            ),
          )
          .join('\n'),
    },
  },
  {
    file: 'deploy/prometheus/rules/causes.rules.yaml',
    replace: [
      // Inside PromQL, where a comment cannot mark a block: the jobs' alternation, and one absent()
      // per job (with no target left, up has no series to say it is down).
      [/job=~"[a-z|]+"/g, (services) => `job=~"${jobs(services)}"`],
      [
        /^( +)absent\(up\{job="[a-z]+"\}\)(\n +or\n +absent\(up\{job="[a-z]+"\}\))*$/m,
        (services, match) => {
          const pad = /^ */.exec(match)[0];
          return services
            .map(({ name }) => `${pad}absent(up{job="${name}"})`)
            .join(`\n${pad}or\n`);
        },
      ],
    ],
  },
  {
    file: 'deploy/prometheus/rules/slo.rules.yaml',
    comment: '#',
    blocks: {
      thresholds: (services) =>
        services
          .map(
            ({ name, slo }) =>
              `#     ${name}: ${slo.latency.thresholds.map(({ routes, le }) => `${routes} ${milliseconds(le)}`).join('; ')}.`,
          )
          .join('\n'),
      objectives: (services) =>
        ['availability', 'latency']
          .flatMap((kind) =>
            services.map(({ name, slo }) =>
              lines(
                '- record: slo:objective:ratio',
                `  labels: { service: ${name}, slo: ${kind} }`,
                `  expr: vector(${slo[kind].objective})`,
              ),
            ),
          )
          .join('\n'),
      // `# >>> render:deploy slis 5m 30m`: each window's rules, in the order the marker names them.
      slis: (services, marker) =>
        marker
          .trim()
          .split(/\s+/)
          .map((window) => slis(services, window))
          .join('\n'),
    },
  },
  {
    file: 'docs/operations.md',
    comment: '<!--',
    close: ' -->',
    blocks: {
      'slo-tables': sloTables,
    },
  },
  {
    // The alert tests: where a test gives some services' targets values of its own, the others
    // must still be up, or the service-down alert would find them missing and fire in every test.
    file: 'deploy/prometheus/tests/causes.test.yaml',
    comment: '#',
    blocks: {
      // `# >>> render:deploy up of every service but users, orders: '1 1 1'`
      up: (services, marker) => {
        const found = /^ of every service but ([a-z, ]+): ('[^']*')$/.exec(
          marker,
        );
        if (!found)
          throw new Error(
            `causes.test.yaml: "render:deploy up${marker}" is not "up of every service but <names>: '<values>'"`,
          );
        const but = found[1].split(',').map((name) => name.trim());
        return services
          .filter(({ name }) => !but.includes(name))
          .map(({ name, port }) =>
            lines(
              `- series: 'up{job="${name}", instance="${name}-1:${port}"}'`,
              `  values: ${found[2]}`,
            ),
          )
          .join('\n');
      },
    },
  },
  {
    file: 'deploy/grafana/dashboards/users-orders.json',
    replace: [
      [/job=~\\"[a-z|]+\\"/g, (services) => `job=~\\"${jobs(services)}\\"`],
    ],
  },
];

const k8sFiles = (services) =>
  services.map((service) => ({
    file: `deploy/k8s/${service.name}.yaml`,
    whole: () => k8sManifest(service),
  }));

/**
 * A file's text with each of its marked blocks rendered; throws naming a missing marker. A block
 * may stand more than once; its render gets the rest of its marker's line.
 */
function withBlocks(file, text, { comment, close = '', blocks }, services) {
  let result = text;
  for (const [block, render] of Object.entries(blocks)) {
    const pattern = new RegExp(
      `^( *)(${escape(comment)} >>> render:deploy ${block}\\b(.*?)(?:${escape(close)})?)\\n[\\s\\S]*?^ *${escape(comment)} <<< render:deploy ${block}${escape(close)}$`,
      'gm',
    );
    if (!pattern.test(result))
      throw new Error(
        `${file}: no block "${block}" between "${comment} >>> render:deploy ${block}${close}" and "${comment} <<< render:deploy ${block}${close}"`,
      );
    result = result.replace(pattern, (_, pad, start, rest) => {
      const body = indent(render(services, rest), pad.length);
      const end = `${pad}${comment} <<< render:deploy ${block}${close}`;
      return body
        ? `${pad}${start}\n${body}\n${end}`
        : `${pad}${start}\n${end}`;
    });
  }
  return result;
}

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Each file as it should be for these services (nest-cli.json's by default): path and text. */
function render(services = servicesWithPeers()) {
  return [...PIECES, ...k8sFiles(services)].map((piece) => {
    if (piece.whole) return { file: piece.file, text: piece.whole(services) };
    const current = readFileSync(join(ROOT, piece.file), 'utf8');
    let text = piece.blocks
      ? withBlocks(piece.file, current, piece, services)
      : current;
    for (const [pattern, make] of piece.replace ?? [])
      text = text.replace(pattern, (match) => make(services, match));
    return { file: piece.file, text };
  });
}

/** The files whose text differs from what `render` makes (missing ones included). */
function staleFiles() {
  return render()
    .filter(({ file, text }) => {
      try {
        return readFileSync(join(ROOT, file), 'utf8') !== text;
      } catch {
        return true;
      }
    })
    .map(({ file }) => file);
}

module.exports = { render, servicesWithPeers, staleFiles };

if (require.main === module) {
  if (process.argv.includes('--check')) {
    const stale = staleFiles();
    if (stale.length > 0) {
      process.stderr.write(
        `Not as nest-cli.json's services need (run npm run render:deploy): ${stale.join(', ')}\n`,
      );
      process.exit(1);
    }
  } else {
    for (const { file, text } of render())
      writeFileSync(join(ROOT, file), text);
  }
}
