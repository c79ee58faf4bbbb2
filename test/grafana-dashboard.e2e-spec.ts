import {
  BuiltApp,
  createTestDatabase,
  freePort,
  startBuiltApp,
  TestDatabase,
  waitUntilReady,
} from '@app/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  asPrometheusGetsIt,
  dashboard,
  dashboardCharts as charts,
  dashboardTargets as targets,
  declaredMetricNames,
  metricNames,
  promtool,
  read,
  readYaml,
  rules,
} from './operating';

/**
 * The Grafana dashboard (deploy/grafana) and its provisioning. Grafana cannot run here: these
 * tests prove what can be proved without it, that every query parses and reads only metrics that
 * exist, so that a Prometheus with data (the Prometheus e2e) only has to show they return some.
 */

/** Prometheus' own series about every target. */
const FROM_PROMETHEUS = ['up'];

describe('the Grafana dashboard', () => {
  it('is a dashboard of schema 39 whose panels all read the Prometheus data source chosen in its variable', () => {
    expect(dashboard.uid).toBe('users-orders');
    expect(dashboard.schemaVersion).toBe(39);
    expect(dashboard.templating.list).toEqual([
      expect.objectContaining({
        type: 'datasource',
        name: 'datasource',
        query: 'prometheus',
      }),
    ]);
    const source = { type: 'prometheus', uid: '${datasource}' };
    for (const panel of charts) {
      expect({ panel: panel.title, source: panel.datasource }).toEqual({
        panel: panel.title,
        source,
      });
      expect(panel.targets?.length).toBeGreaterThan(0);
      for (const target of panel.targets ?? [])
        expect({ panel: panel.title, source: target.datasource }).toEqual({
          panel: panel.title,
          source,
        });
    }
  });

  it('has unique panel ids, and panels that stay within 24 columns and do not overlap', () => {
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Map<string, string>();
    for (const panel of dashboard.panels) {
      const { x, y, w, h } = panel.gridPos;
      expect({ panel: panel.title, right: x + w <= 24 }).toEqual({
        panel: panel.title,
        right: true,
      });
      for (let row = y; row < y + h; row++)
        for (let column = x; column < x + w; column++) {
          const cell = `${row},${column}`;
          expect({ cell, taken: cells.get(cell) }).toEqual({
            cell,
            taken: undefined,
          });
          cells.set(cell, panel.title);
        }
    }
  });

  it('has the panels the issue asks for, each described in docs/operations.md', () => {
    const exprs = (title: string) =>
      targets
        .filter((target) => target.panel === title)
        .map((target) => target.expr)
        .join('\n');
    const wanted: [string, RegExp][] = [
      ['Request rate by route', /rate\(http_request_duration_seconds_count/],
      ['Error ratio (5xx) by route', /status_code=~"5\.\."/],
      ['p50 latency by route', /histogram_quantile\(0\.5,/],
      ['p99 latency by route', /histogram_quantile\(0\.99,/],
      ['Error budget burn rate', /slo:sli_error:ratio_rate1h/],
      ['Error budget left (30 days)', /slo:error_budget_remaining:ratio/],
      ['Calls to users by outcome', /users_client_request_duration_seconds/],
      ['Circuit to users', /users_client_circuit_state/],
      ['Database connections', /database_pool_connections/],
      ['Resident memory', /process_resident_memory_bytes/],
      ['Event-loop lag p99', /nodejs_eventloop_lag_p99_seconds/],
    ];
    for (const [title, query] of wanted) expect(exprs(title)).toMatch(query);
    const operations = read('docs/operations.md');
    for (const panel of charts)
      expect({
        panel: panel.title,
        described: operations.includes(`**${panel.title}**`),
      }).toEqual({
        panel: panel.title,
        described: true,
      });
  });

  it('has queries that all parse (promtool, with each query as a recording rule)', () => {
    const folder = mkdtempSync(join(tmpdir(), 'dashboard-queries-'));
    try {
      const file = join(folder, 'queries.yaml');
      const queries = targets.map((target) => asPrometheusGetsIt(target.expr));
      // Grafana's own variables are replaced above; any other would reach Prometheus as is.
      expect(queries.filter((expr) => expr.includes('$'))).toEqual([]);
      writeFileSync(
        file,
        stringify({
          groups: [
            {
              name: 'dashboard',
              rules: queries.map((expr, index) => ({
                record: `dashboard_query_${index}`,
                expr,
              })),
            },
          ],
        }),
      );
      expect(promtool('check', 'rules', file)).toContain(
        `SUCCESS: ${queries.length} rules found`,
      );
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('reads metric names out of PromQL as these tests need', () => {
    expect(
      metricNames(
        'sum by (service, le) (rate(a_bucket{route=~"/x|/y", le="0.5"}[5m] offset 1h)) / on (service) group_left () (1 - b:c:ratio) > bool 1e-3 and on() absent(up{job="users"}) or vector(0.99)',
      ),
    ).toEqual(['a_bucket', 'b:c:ratio', 'up']);
  });

  describe('and the rules', () => {
    const databases: TestDatabase[] = [];
    const apps: BuiltApp[] = [];
    let exported: string[] = [];

    // With a database each: some metrics exist only then.
    beforeAll(async () => {
      const [usersDb, ordersDb] = await Promise.all([
        createTestDatabase(),
        createTestDatabase(),
      ]);
      databases.push(usersDb, ordersDb);
      const [usersPort, ordersPort] = [await freePort(), await freePort()];
      const users = await startBuiltApp('users', usersPort, {
        USERS_PORT: String(usersPort),
        DATABASE_URL: usersDb.url,
      });
      apps.push(users);
      const orders = await startBuiltApp('orders', ordersPort, {
        ORDERS_PORT: String(ordersPort),
        DATABASE_URL: ordersDb.url,
        USERS_SERVICE_URL: users.url,
      });
      apps.push(orders);
      await Promise.all(apps.map((app) => waitUntilReady(app.url)));
      const pages = await Promise.all(
        apps.map((app) => fetch(`${app.url}/metrics`).then((r) => r.text())),
      );
      exported = [...new Set(pages.flatMap(declaredMetricNames))];
    }, 60_000);

    afterAll(async () => {
      await Promise.all(apps.map((app) => app.stop()));
      await Promise.all(databases.map((database) => database.drop()));
    });

    it('read only metrics the apps export, the rules record, or Prometheus adds', () => {
      const recorded = rules().flatMap((rule) => rule.record ?? []);
      const known = new Set([...exported, ...recorded, ...FROM_PROMETHEUS]);
      const reads = [
        ...targets.map((target) => ({
          where: `panel "${target.panel}"`,
          expr: asPrometheusGetsIt(target.expr),
        })),
        ...rules().map((rule) => ({
          where: rule.alert ?? rule.record!,
          expr: rule.expr,
        })),
      ];
      const unknown = reads.flatMap(({ where, expr }) =>
        metricNames(expr)
          .filter((name) => !known.has(name))
          .map((name) => `${where}: ${name}`),
      );
      expect(unknown).toEqual([]);
      // The check has something to check: the request histogram and the default metrics.
      expect(exported).toEqual(
        expect.arrayContaining([
          'http_request_duration_seconds_bucket',
          'users_client_request_duration_seconds_count',
          'process_resident_memory_bytes',
          'nodejs_eventloop_lag_p99_seconds',
          'users_client_circuit_state',
          'database_up',
          'database_pool_connections',
          'database_pool_max',
        ]),
      );
    });
  });
});

describe('Grafana in compose.yaml', () => {
  const grafana = readYaml<{
    services: Record<
      string,
      { image: string; ports?: string[]; volumes?: string[]; expose?: string[] }
    >;
  }>('compose.yaml').services.grafana;
  const mounts = new Map(
    (grafana.volumes ?? []).map((volume) => {
      const [from, to] = volume.split(':');
      return [from, to];
    }),
  );

  it('runs a pinned Grafana on port 3000', () => {
    expect(grafana.image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
    expect(grafana.ports).toEqual(['3000:3000']);
  });

  it('is provisioned with the compose Prometheus as its data source', () => {
    const provisioning = './deploy/grafana/provisioning/datasources';
    expect(mounts.get(provisioning)).toBe(
      '/etc/grafana/provisioning/datasources',
    );
    const { datasources } = readYaml<{
      datasources: { type: string; url: string; isDefault: boolean }[];
    }>('deploy/grafana/provisioning/datasources/prometheus.yaml');
    expect(datasources).toEqual([
      expect.objectContaining({
        type: 'prometheus',
        url: 'http://prometheus:9090',
        isDefault: true,
      }),
    ]);
    const prometheus = readYaml<{
      services: Record<string, { ports?: string[] }>;
    }>('compose.yaml').services.prometheus;
    expect(prometheus.ports).toContain('9090:9090');
  });

  it('loads the dashboard from where compose mounts it', () => {
    expect(mounts.get('./deploy/grafana/provisioning/dashboards')).toBe(
      '/etc/grafana/provisioning/dashboards',
    );
    const { providers } = readYaml<{
      providers: { type: string; options: { path: string } }[];
    }>('deploy/grafana/provisioning/dashboards/users-orders.yaml');
    expect(providers).toEqual([
      expect.objectContaining({
        type: 'file',
        options: { path: mounts.get('./deploy/grafana/dashboards') },
      }),
    ]);
  });
});
