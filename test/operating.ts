import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** What the tests of the Prometheus rules, the dashboard and the manifests share. */
export const ROOT = join(__dirname, '..');
export const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
export const readYaml = <T>(path: string) => parse(read(path)) as T;

export const RULES_DIR = 'deploy/prometheus/rules';
export const RULE_FILES = readdirSync(join(ROOT, RULES_DIR))
  .filter((file) => file.endsWith('.yaml'))
  .map((file) => `${RULES_DIR}/${file}`);

export interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}

export const ruleGroups = (): RuleGroup[] =>
  RULE_FILES.flatMap((file) => readYaml<{ groups: RuleGroup[] }>(file).groups);
export const rules = (): Rule[] => ruleGroups().flatMap((group) => group.rules);

/**
 * Runs promtool from Debian's prometheus package; resolves with its output, or fails with it.
 * Missing, it fails with how to get it: the rules must not pass untested on a machine without it.
 */
export function promtool(...args: string[]): string {
  const result = spawnSync('promtool', args, {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error(
      'promtool is not installed. It comes with Debian\'s prometheus package: "apt-get install prometheus" (.ci/run installs it).',
    );
  }
  if (result.error) throw result.error;
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) {
    throw new Error(`promtool ${args.join(' ')} failed:\n${output}`);
  }
  return output;
}

// Words of PromQL that look like metric names.
const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'atan2',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression reads. Label matchers, ranges, label lists, strings and
 * numbers are removed first; what is left that is followed by "(" is a function or aggregation.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\boffset\s+-?[\dsmhdwy]+/g, ' ')
    .replace(
      /\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g,
      ' ',
    )
    .replace(/\b(?:group_left|group_right)\b/g, ' ')
    .replace(/(?<![\w:])(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?/gi, ' ');
  const names = new Set<string>();
  for (const [, name, call] of stripped.matchAll(
    /([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g,
  )) {
    if (!call && !KEYWORDS.has(name.toLowerCase())) names.add(name);
  }
  return [...names].sort();
}

/**
 * The metric names a /metrics page declares, with the series names of histograms and summaries.
 * From the TYPE lines, so a histogram that has observed nothing yet still counts.
 */
export function declaredMetricNames(text: string): string[] {
  const names: string[] = [];
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (type === 'histogram')
      names.push(`${name}_bucket`, `${name}_sum`, `${name}_count`);
    else if (type === 'summary')
      names.push(name, `${name}_sum`, `${name}_count`);
    else names.push(name);
  }
  return names;
}

export const DASHBOARD = 'deploy/grafana/dashboards/users-orders.json';

export interface DashboardTarget {
  expr: string;
  datasource: { type: string; uid: string };
  refId: string;
}
export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: DashboardTarget[];
}
export const dashboard = JSON.parse(read(DASHBOARD)) as {
  uid: string;
  schemaVersion: number;
  templating: { list: { type: string; name: string; query: string }[] };
  panels: DashboardPanel[];
};
/** The panels that show something: all but the rows. */
export const dashboardCharts = dashboard.panels.filter(
  (panel) => panel.type !== 'row',
);
/** Every query of the dashboard, with the title of its panel. */
export const dashboardTargets = dashboardCharts.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({ panel: panel.title, ...target })),
);

/**
 * A query as Prometheus gets it from Grafana: its interval variables replaced by durations. The
 * data source is a variable too, but of the panel, not of the query.
 */
export const asPrometheusGetsIt = (expr: string) =>
  expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__interval', '15s')
    .replaceAll('$__range', '1h');

/**
 * Runs one of the repository's scripts with this Node, from the root, as its npm script does, and
 * expects it to succeed and say nothing on stderr (where the scripts name a stale file): how the
 * tests of the files the scripts write (docs:config, docs:scopes, render:deploy) ask for them.
 * Returns what it printed.
 */
export function runScript(script: string, ...args: string[]): string {
  const run = spawnSync(process.execPath, [script, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect({ script, status: run.status, stderr: run.stderr }).toEqual({
    script,
    status: 0,
    stderr: '',
  });
  return run.stdout;
}
