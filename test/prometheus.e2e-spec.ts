import {
  BuiltApp,
  createTestDatabase,
  eventually,
  freePort,
  LoadBalancer,
  PromAlert,
  PrometheusServer,
  PromSeries,
  startBuiltApp,
  startLoadBalancer,
  startPrometheus,
  TestDatabase,
  waitUntilReady,
} from '@app/testing';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import {
  asPrometheusGetsIt,
  dashboardTargets,
  readYaml,
  RULE_FILES,
  RuleGroup,
  ruleGroups,
  rules,
} from './operating';

/**
 * Debian's Prometheus scraping two replicas of each service on PostgreSQL, with the repository's
 * rules, under load, then through an outage of users: what promtool's unit tests and the
 * dashboard's parse check cannot show, that the rules and the panels work on the series the
 * built apps really export, as Prometheus really scrapes them.
 *
 * Clients and orders reach each service through nginx, as in compose.yaml (orders' users URL is
 * the balancer there too): what orders sees of a users outage, and so what its metrics and the
 * alerts show, is what it sees when deployed.
 */
const INTERVAL_SECONDS = 1;
const SERVICES = ['users', 'orders'] as const;
const SLOS = SERVICES.flatMap((service) =>
  ['availability', 'latency'].map((slo) => ({ service, slo })),
);

/**
 * The rule files as the repository has them, but for the groups' own evaluation intervals: the
 * long windows' group is evaluated every 2 minutes, at an offset Prometheus derives from the
 * group's name and the wall clock, so its first values (the 30-day budget) could take 2 minutes
 * to come. Without the interval a group follows the test's evaluation interval; every rule is
 * as written.
 */
const ruleFilesWithoutIntervals = () =>
  Object.fromEntries(
    RULE_FILES.map((file) => {
      const { groups } = readYaml<{ groups: RuleGroup[] }>(file);
      return [
        basename(file),
        stringify({
          groups: groups.map(({ interval: _interval, ...group }) => group),
        }),
      ];
    }),
  );

/** Waits for all, then fails with the first failure: nothing still starting is left behind. */
async function settle(promises: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(promises)).find(
    (result) => result.status === 'rejected',
  );
  if (failed) throw failed.reason;
}

const post = (url: string, body: object) =>
  fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });

/**
 * Clients of both services, each going round every route the SLOs cover, until stopped. What they
 * get back is not their concern: Prometheus sees it.
 */
function startLoad(urls: { users: string; orders: string }) {
  let running = true;
  let sent = 0;
  const requests = [
    (n: number) => fetch(`${urls.users}/users/${(n % 2) + 1}`),
    () => fetch(`${urls.users}/users?limit=5`),
    (n: number) =>
      post(`${urls.users}/users`, { name: 'Load', email: `load${n}@x.io` }),
    (n: number) => fetch(`${urls.orders}/orders/${(n % 2) + 1}`),
    () => fetch(`${urls.orders}/orders?limit=5`),
    (n: number) =>
      post(`${urls.orders}/orders`, { user_id: 1, product: `P${n}` }),
  ];
  const worker = async (offset: number) => {
    for (let n = offset; running; n++) {
      const response = await requests[n % requests.length](sent++).catch(
        () => undefined,
      );
      await response?.arrayBuffer().catch(() => undefined);
      // A bound on the load, so that the test shares the machine: the circuit's fast 503s would
      // otherwise spin.
      await sleep(10);
    }
  };
  const workers = [0, 1, 2].map((offset) => worker(offset * 2));
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

const alertKey = (alert: { labels: Record<string, string> }) =>
  [
    alert.labels.alertname,
    ...['job', 'instance', 'service', 'slo']
      .filter((label) => alert.labels[label] !== undefined)
      .map((label) => `${label}=${alert.labels[label]}`),
  ].join(' ');

describe('a real Prometheus scraping two replicas of each service through an outage of users', () => {
  const databases: TestDatabase[] = [];
  const replicas: Record<(typeof SERVICES)[number], BuiltApp[]> = {
    users: [],
    orders: [],
  };
  let lb: LoadBalancer | undefined;
  let prometheus: PrometheusServer | undefined;
  let load: ReturnType<typeof startLoad> | undefined;
  const targets = { users: [] as string[], orders: [] as string[] };
  const query = (expr: string) => prometheus!.query(expr);
  /** When every replica had been seen up. */
  let allUpAt = Infinity;

  beforeAll(async () => {
    const ports = {
      users: [await freePort(), await freePort()],
      orders: [await freePort(), await freePort()],
    };
    for (const service of SERVICES)
      targets[service] = ports[service].map((port) => `127.0.0.1:${port}`);
    // First, so that a machine without it fails at once; the replicas it finds down until they
    // start are up by the time the tests look.
    prometheus = await startPrometheus({
      jobs: targets,
      ruleFiles: ruleFilesWithoutIntervals(),
      intervalSeconds: INTERVAL_SECONDS,
    });
    const [usersDb, ordersDb] = await Promise.all([
      createTestDatabase(),
      createTestDatabase(),
    ]);
    databases.push(usersDb, ordersDb);
    lb = await startLoadBalancer({
      users: targets.users.map((target) => `http://${target}`),
      orders: targets.orders.map((target) => `http://${target}`),
    });
    const start = (service: (typeof SERVICES)[number], port: number) =>
      startBuiltApp(service, port, {
        [service === 'users' ? 'USERS_PORT' : 'ORDERS_PORT']: String(port),
        DATABASE_URL: (service === 'users' ? usersDb : ordersDb).url,
        USERS_SERVICE_URL: lb!.urls.users,
      }).then((app) => {
        replicas[service].push(app);
        return waitUntilReady(app.url);
      });
    await settle(ports.users.map((port) => start('users', port)));
    await settle(ports.orders.map((port) => start('orders', port)));
    load = startLoad(lb.urls as { users: string; orders: string });
  }, 90_000);

  afterAll(async () => {
    await load?.stop();
    await Promise.allSettled([
      prometheus?.stop(),
      ...[...replicas.orders, ...replicas.users].map((app) => app.stop()),
    ]);
    await lb?.stop();
    await Promise.allSettled(databases.map((database) => database.drop()));
  });

  it('scrapes the four replicas as the jobs the rules name, each labelled with its service', async () => {
    const up = await eventually(
      () => query('up'),
      (series) =>
        series.length === 4 && series.every((sample) => sample.value === 1),
      'every replica scraped',
    );
    allUpAt = Date.now();
    expect(
      up.map(({ metric }) => `${metric.job} ${metric.instance}`).sort(),
    ).toEqual(
      SERVICES.flatMap((job) =>
        targets[job].map((target) => `${job} ${target}`),
      ).sort(),
    );
    // ServiceDown reads the job, the SLOs the service: they must name the same thing.
    const pairs = await query(
      'count by (job, service) (process_resident_memory_bytes)',
    );
    expect(
      pairs.map(({ metric, value }) => ({ ...metric, replicas: value })),
    ).toEqual(
      expect.arrayContaining(
        SERVICES.map((service) => ({ job: service, service, replicas: 2 })),
      ),
    );
    expect(pairs).toHaveLength(2);
  });

  it('loads every rule of the repository, and evaluates each without error on the real series', async () => {
    const loaded = await eventually(
      () => prometheus!.rules(),
      (list) => list.every((rule) => rule.lastEvaluation > allUpAt),
      'every rule evaluated with every replica up',
    );
    // Listed by file and group, not in the files' order.
    expect(loaded.map(({ group, name }) => `${group} ${name}`).sort()).toEqual(
      ruleGroups()
        .flatMap((group) =>
          group.rules.map(
            (rule) => `${group.name} ${rule.record ?? rule.alert}`,
          ),
        )
        .sort(),
    );
    // A many-to-many match or a label clash fails only on data: health "err", with the reason.
    expect(loaded.filter((rule) => rule.health !== 'ok')).toEqual([]);
  });

  it('records every SLI over every window, the objectives and what is left of each budget, for each SLO', async () => {
    const recorded = [...new Set(rules().flatMap((rule) => rule.record ?? []))];
    expect(recorded).toEqual(
      expect.arrayContaining([
        'slo:sli_error:ratio_rate5m',
        'slo:sli_error:ratio_rate30d',
        'slo:objective:ratio',
        'slo:error_budget_remaining:ratio',
      ]),
    );
    const slosOf = (series: PromSeries[]) =>
      series
        .filter((sample) => Number.isFinite(sample.value))
        .map(({ metric }) => ({ service: metric.service, slo: metric.slo }));
    for (const name of recorded) {
      const series = await eventually(
        () => query(name),
        (answer) => slosOf(answer).length === SLOS.length,
        `${name} for every SLO`,
        { limitMs: 30_000, everyMs: 250 },
      );
      expect({ name, slos: slosOf(series) }).toEqual({
        name,
        slos: expect.arrayContaining(SLOS),
      });
      // Shares of requests, and a budget that can only be used up; 1 - a/b can miss 0 by a
      // rounding error.
      const [low, high] =
        name === 'slo:error_budget_remaining:ratio'
          ? [-Infinity, 1 + 1e-9]
          : [-1e-9, 1 + 1e-9];
      expect({
        name,
        outside: series.filter(({ value }) => !(value >= low && value <= high)),
      }).toEqual({ name, outside: [] });
    }
  });

  it('is quiet while all is well: no alert the outage is to raise', async () => {
    // Not TargetDown: one scrape slower than its 1 s timeout on a busy machine makes it pending.
    const outageAlert = ({ labels }: PromAlert) =>
      ['ServiceDown', 'UsersCircuitOpen', 'DatabaseDown'].includes(
        labels.alertname,
      ) || labels.slo === 'availability';
    expect(
      (await prometheus!.alerts()).filter(outageAlert).map(alertKey),
    ).toEqual([]);
  });

  it('has data in every panel of the dashboard, for both services where a panel shows services', async () => {
    for (const target of dashboardTargets) {
      const series = await eventually(
        () => query(asPrometheusGetsIt(target.expr)),
        (answer) => answer.some(({ value }) => Number.isFinite(value)),
        `data for "${target.panel}" (${target.refId})`,
        { limitMs: 20_000, everyMs: 250 },
      );
      const shown = new Set(
        series.flatMap(({ metric }) => metric.service ?? metric.job ?? []),
      );
      // The panels about orders' calls to users show no service: they are all orders'.
      if (shown.size > 0)
        expect({ panel: target.panel, shown: [...shown].sort() }).toEqual({
          panel: target.panel,
          shown: [...SERVICES].sort(),
        });
    }
  });

  describe('when every replica of users stops', () => {
    let stoppingAt = Infinity;

    beforeAll(async () => {
      stoppingAt = Date.now();
      await Promise.all(replicas.users.map((app) => app.stop()));
    });

    it('raises the users-outage alerts: pending while their for: runs, firing at once without one', async () => {
      // ServiceDown's for: is 2 minutes, UsersCircuitOpen's 5, TargetDown's 10: more than this
      // test waits, so pending is what it sees of them. The burn alerts have no for:, their
      // windows are the wait. The day-long burns (tickets) fire too, but only because this
      // Prometheus has a minute of history: they are left out.
      const expected = [
        'ServiceDown job=users',
        ...targets.users.map(
          (target) => `TargetDown job=users instance=${target}`,
        ),
        ...targets.orders.map(
          (target) =>
            `UsersCircuitOpen job=orders instance=${target} service=orders`,
        ),
        // GET /orders/:id shows the copies of users orders confirmed before the stop.
        'StaleUsersServed service=orders',
        'ErrorBudgetBurn1h service=orders slo=availability',
        'ErrorBudgetBurn6h service=orders slo=availability',
      ].map((key) => {
        const rule = rules().find(({ alert }) => alert === key.split(' ')[0]);
        return { key, states: rule?.for ? ['pending', 'firing'] : ['firing'] };
      });
      const seen = new Map<string, PromAlert>();
      await eventually(
        async () => {
          for (const alert of await prometheus!.alerts())
            seen.set(alertKey(alert), alert);
          return [...seen.values()].map(
            (alert) => `${alertKey(alert)}: ${alert.state}`,
          );
        },
        () =>
          expected.every(({ key, states }) =>
            states.includes(seen.get(key)?.state ?? 'inactive'),
          ),
        'the users-outage alerts',
        { limitMs: 60_000, everyMs: 250 },
      );
      // Raised by the outage, not left from the start. A scrape begun just before the stop is
      // stamped with its start, so an evaluation one interval earlier can see it fail.
      expect(
        expected
          .map(({ key }) => seen.get(key)!)
          .filter(
            ({ activeAt }) =>
              Date.parse(activeAt) < stoppingAt - INTERVAL_SECONDS * 1000,
          )
          .map(alertKey),
      ).toEqual([]);
      // Users answered no request wrong, it is gone; the databases of both are fine, orders is up.
      expect(
        [...seen.keys()].filter(
          (key) =>
            key.includes('service=users slo=availability') ||
            key.startsWith('DatabaseDown') ||
            key === 'ServiceDown job=orders',
        ),
      ).toEqual([]);
    }, 90_000);

    it('and the dashboard shows it: users not scraped, the circuits not closed, copies shown, 5xx from orders where no copy may stand in, the budget spent', async () => {
      const panel = (title: string) => {
        const target = dashboardTargets.find((t) => t.panel === title);
        if (!target) throw new Error(`no panel "${title}"`);
        return query(asPrometheusGetsIt(target.expr));
      };
      const valueOf = (series: PromSeries[], labels: Record<string, string>) =>
        series.find(({ metric }) =>
          Object.entries(labels).every(
            ([name, value]) => metric[name] === value,
          ),
        )?.value;
      expect(valueOf(await panel('Replicas scraped'), { job: 'users' })).toBe(
        0,
      );
      // 2 open, 1 half-open (one probe every cool-down), 0 closed.
      const circuits = await panel('Circuit to users');
      expect(
        targets.orders.map((instance) => ({
          instance,
          notClosed: (valueOf(circuits, { instance }) ?? 0) > 0,
        })),
      ).toEqual(
        targets.orders.map((instance) => ({ instance, notClosed: true })),
      );
      const failedCalls = (await panel('Calls to users by outcome')).filter(
        ({ metric, value }) => metric.outcome !== 'ok' && value > 0,
      );
      expect(failedCalls).not.toEqual([]);
      // Reading an order shows the last confirmed copy of its user; creating one never does.
      expect(
        failedCalls.filter(({ metric }) => metric.outcome === 'stale'),
      ).not.toEqual([]);
      expect(
        valueOf(await panel('Error ratio (5xx) by route'), {
          service: 'orders',
          method: 'POST',
          route: '/orders',
        }),
      ).toBeGreaterThan(0);
      await eventually(
        () => panel('Error budget left (30 days)'),
        (series) =>
          (valueOf(series, { service: 'orders', slo: 'availability' }) ?? 1) <
          0,
        "orders' availability budget overspent",
      );
      // And every panel still has something to show.
      for (const target of dashboardTargets) {
        const series = await query(asPrometheusGetsIt(target.expr));
        expect({
          panel: target.panel,
          refId: target.refId,
          data: series.some(({ value }) => Number.isFinite(value)),
        }).toEqual({ panel: target.panel, refId: target.refId, data: true });
      }
    });
  });
});
