import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { serviceNames } from '@app/testing';
import {
  promtool,
  read,
  readYaml,
  ROOT,
  RULE_FILES,
  ruleGroups,
  rules,
} from './operating';

/**
 * The SLO and alert rules (deploy/prometheus): promtool checks them and runs their unit tests
 * (deploy/prometheus/tests), and these tests hold the conventions promtool cannot see.
 */
const TESTS_DIR = 'deploy/prometheus/tests';
const TEST_FILES = readdirSync(join(ROOT, TESTS_DIR))
  .filter((file) => file.endsWith('.test.yaml'))
  .map((file) => `${TESTS_DIR}/${file}`);

const alerts = () => rules().filter((rule) => rule.alert);

/** Where the alerts' runbooks are, as their runbook_url names it, relative to the repository. */
const RUNBOOKS = 'docs/operations.md';

describe('the Prometheus rules', () => {
  it('are valid rule files', () => {
    expect(RULE_FILES.length).toBeGreaterThan(0);
    expect(promtool('check', 'rules', ...RULE_FILES)).toContain('SUCCESS');
  });

  it('pass their unit tests (promtool test rules)', () => {
    expect(TEST_FILES.length).toBeGreaterThan(0);
    const output = promtool('test', 'rules', ...TEST_FILES);
    expect(output.match(/SUCCESS/g)).toHaveLength(TEST_FILES.length);
  }, 180_000);

  it('have, for every alert, a unit test where it fires and one where it stays quiet', () => {
    const cases = TEST_FILES.flatMap((file) =>
      readYaml<{
        tests: {
          alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[];
        }[];
      }>(file).tests.flatMap((test) => test.alert_rule_test ?? []),
    );
    const coverage = alerts().map(({ alert }) => ({
      alert,
      fires: cases.some(
        (c) => c.alertname === alert && (c.exp_alerts ?? []).length > 0,
      ),
      staysQuiet: cases.some(
        (c) => c.alertname === alert && (c.exp_alerts ?? []).length === 0,
      ),
    }));
    expect(coverage).toEqual(
      coverage.map(({ alert }) => ({ alert, fires: true, staysQuiet: true })),
    );
    const names = new Set(alerts().map((rule) => rule.alert));
    expect(cases.filter((c) => !names.has(c.alertname))).toEqual([]);
  });

  it('label every alert a page or a ticket, and give it a summary, a description and its runbook in docs/operations.md', () => {
    // The runbooks are the headings of "Alerts and runbooks", each an anchor GitHub makes.
    const section = read(RUNBOOKS).split(/^## Alerts and runbooks$/m)[1] ?? '';
    const runbooks = new Map(
      [...section.split(/^## /m)[0].matchAll(/^### (\w+)$/gm)].map(
        ([, name]) => [`${RUNBOOKS}#${name.toLowerCase()}`, name],
      ),
    );
    for (const rule of alerts()) {
      expect({
        alert: rule.alert,
        severity: rule.labels?.severity,
        annotations: Object.keys(rule.annotations ?? {}).sort(),
        runbook: runbooks.get(rule.annotations?.runbook_url ?? ''),
      }).toEqual({
        alert: rule.alert,
        severity: expect.stringMatching(/^(page|ticket)$/),
        annotations: ['description', 'runbook_url', 'summary'],
        runbook: rule.alert,
      });
    }
  });

  it('record each SLI over every window the alerts and the budget read, with one expression for all windows', () => {
    const WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d', '30d'];
    const family = /^slo:sli_error:ratio_rate(\w+)$/;
    const recorded = rules().filter((rule) => family.test(rule.record ?? ''));
    const bySli = new Map<string, Map<string, string>>();
    for (const rule of recorded) {
      const window = family.exec(rule.record!)![1];
      const sli = JSON.stringify(rule.labels);
      const exprs = bySli.get(sli) ?? new Map<string, string>();
      // The expression with its window taken out: the same for every window of one SLI.
      exprs.set(window, rule.expr.split(`[${window}]`).join('[window]'));
      bySli.set(sli, exprs);
    }
    // Availability for every service in one rule, latency one rule per service.
    expect([...bySli.keys()].sort()).toEqual(
      [
        { slo: 'availability' },
        ...serviceNames().map((service) => ({ service, slo: 'latency' })),
      ]
        .map((labels) => JSON.stringify(labels))
        .sort(),
    );
    for (const [sli, exprs] of bySli) {
      expect({ sli, windows: [...exprs.keys()] }).toEqual({
        sli,
        windows: WINDOWS,
      });
      expect({ sli, expressions: new Set(exprs.values()).size }).toEqual({
        sli,
        expressions: 1,
      });
    }
    const windowsRead = alerts()
      .flatMap((rule) => rule.expr.match(/slo:sli_error:ratio_rate\w+/g) ?? [])
      .map((name) => family.exec(name)![1]);
    expect(WINDOWS).toEqual(expect.arrayContaining(windowsRead));
  });

  it('give every SLO an objective, and alert on every SLO through it', () => {
    const objectives = rules()
      .filter((rule) => rule.record === 'slo:objective:ratio')
      .map((rule) => ({
        ...rule.labels,
        objective: Number(/^vector\(([\d.]+)\)$/.exec(rule.expr)?.[1]),
      }));
    expect(objectives).toEqual(
      expect.arrayContaining(
        serviceNames().flatMap((service) =>
          ['availability', 'latency'].map((slo) => ({
            service,
            slo,
            objective: expect.any(Number),
          })),
        ),
      ),
    );
    expect(objectives).toHaveLength(serviceNames().length * 2);
    const burns = alerts().filter((rule) =>
      rule.expr.includes('slo:sli_error:'),
    );
    expect(burns.map((rule) => rule.alert)).toEqual([
      'ErrorBudgetBurn1h',
      'ErrorBudgetBurn6h',
      'ErrorBudgetBurn1d',
      'ErrorBudgetBurn3d',
    ]);
    for (const rule of burns) expect(rule.expr).toContain('on (service, slo)');
  });

  it('keep each group at an interval within the 5 minutes a recorded value stays visible', () => {
    for (const group of ruleGroups()) {
      if (group.interval === undefined) continue;
      const [, amount, unit] = /^(\d+)([smh])$/.exec(group.interval)!;
      const seconds = Number(amount) * { s: 1, m: 60, h: 3600 }[unit]!;
      expect({ group: group.name, below5m: seconds < 300 }).toEqual({
        group: group.name,
        below5m: true,
      });
    }
  });
});

describe('Prometheus in compose.yaml', () => {
  const config = readYaml<{
    rule_files: string[];
    scrape_configs: {
      job_name: string;
      dns_sd_configs: { names: string[]; type: string; port: number }[];
    }[];
  }>('deploy/prometheus/prometheus.yml');
  const compose = readYaml<{
    services: Record<
      string,
      {
        image: string;
        expose?: string[];
        command?: string[];
        volumes?: string[];
      }
    >;
  }>('compose.yaml');
  const prometheus = compose.services.prometheus;

  it('has a configuration promtool accepts, loading every rule file', () => {
    expect(
      promtool('check', 'config', 'deploy/prometheus/prometheus.yml'),
    ).toContain(`SUCCESS: ${RULE_FILES.length} rule files found`);
  });

  it.each(serviceNames())(
    'scrapes every replica of %s on its port, as the job of that name',
    (name) => {
      const job = config.scrape_configs.find((j) => j.job_name === name);
      expect(job?.dns_sd_configs).toEqual([
        expect.objectContaining({
          names: [name],
          type: 'A',
          port: Number(compose.services[name].expose?.[0]),
        }),
      ]);
    },
  );

  it('runs a pinned Prometheus with this configuration and these rules, keeping more than 30 days', () => {
    expect(prometheus.image).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
    expect(prometheus.volumes).toEqual(
      expect.arrayContaining([
        './deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro',
        './deploy/prometheus/rules:/etc/prometheus/rules:ro',
      ]),
    );
    expect(prometheus.command).toContain(
      '--config.file=/etc/prometheus/prometheus.yml',
    );
    expect(config.rule_files).toEqual(['rules/*.yaml']);
    const retention = prometheus.command
      ?.map((flag) => /^--storage\.tsdb\.retention\.time=(\d+)d$/.exec(flag))
      .find(Boolean)?.[1];
    expect(Number(retention)).toBeGreaterThan(30);
  });
});
