import { ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../app/built-app';
import { eventually } from '../app/eventually';

/** One series of an instant query's answer. */
export interface PromSeries {
  metric: Record<string, string>;
  value: number;
}

/** An alert as Prometheus' /api/v1/alerts lists it: pending until its `for:` has passed. */
export interface PromAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
}

/** A rule as Prometheus' /api/v1/rules lists it, with how its last evaluation went. */
export interface PromRule {
  group: string;
  name: string;
  type: 'recording' | 'alerting';
  health: 'ok' | 'err' | 'unknown';
  lastError?: string;
  /** When it was last evaluated, in ms since the epoch. */
  lastEvaluation: number;
}

export interface PrometheusServer {
  url: string;
  /** An instant query now. Rejects with Prometheus' own reason for a query it refuses. */
  query(expr: string): Promise<PromSeries[]>;
  /** The alerts pending or firing. */
  alerts(): Promise<PromAlert[]>;
  /** Every rule loaded, by group. */
  rules(): Promise<PromRule[]>;
  /** Everything Prometheus logged, to tell why it failed. */
  output(): string;
  stop(): Promise<void>;
}

export interface PrometheusSettings {
  /** Targets (host:port) by job name. */
  jobs: Record<string, string[]>;
  /** The rule files to load: their text by file name. */
  ruleFiles: Record<string, string>;
  /** The scrape and evaluation interval, and the scrape timeout, in seconds. */
  intervalSeconds: number;
}

function prometheusBinary(): string | undefined {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, 'prometheus'))
    .find((path) => existsSync(path));
}

/**
 * Prometheus from the machine's packages (Debian's prometheus, the one that brings promtool),
 * scraping static targets and evaluating rules, with its data in a directory of its own that
 * stop() removes.
 */
export async function startPrometheus({
  jobs,
  ruleFiles,
  intervalSeconds,
}: PrometheusSettings): Promise<PrometheusServer> {
  const binary = prometheusBinary();
  if (!binary) {
    throw new Error(
      'prometheus not found: it comes with Debian\'s prometheus package, "apt-get install prometheus" (.ci/run installs it)',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'prometheus-'));
  mkdirSync(join(dir, 'rules'));
  for (const [name, text] of Object.entries(ruleFiles))
    writeFileSync(join(dir, 'rules', name), text);
  const interval = `${intervalSeconds}s`;
  writeFileSync(
    join(dir, 'prometheus.yml'),
    stringify({
      global: {
        scrape_interval: interval,
        scrape_timeout: interval,
        evaluation_interval: interval,
      },
      rule_files: [join(dir, 'rules', '*')],
      scrape_configs: Object.entries(jobs).map(([job, targets]) => ({
        job_name: job,
        static_configs: [{ targets }],
      })),
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => resolve()),
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`);
    const body = (await response.json()) as {
      status: string;
      data: T;
      error?: string;
    };
    if (body.status !== 'success')
      throw new Error(`Prometheus refused ${path}: ${body.error}`);
    return body.data;
  };

  try {
    await eventually(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`prometheus exited at start:\n${output}`);
        return fetch(`${url}/-/ready`)
          .then((response) => response.status)
          .catch(() => 0);
      },
      (status) => status === 200,
      'Prometheus to be ready',
      { limitMs: 30_000, everyMs: 100 },
    );
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    url,
    async query(expr) {
      const data = await api<{
        resultType: string;
        result: { metric: Record<string, string>; value: [number, string] }[];
      }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
      if (data.resultType !== 'vector')
        throw new Error(`${expr} is a ${data.resultType}, not a vector`);
      return data.result.map(({ metric, value }) => ({
        metric,
        value: Number(value[1]),
      }));
    },
    async alerts() {
      return (await api<{ alerts: PromAlert[] }>('/api/v1/alerts')).alerts;
    },
    async rules() {
      const { groups } = await api<{
        groups: {
          name: string;
          rules: (Omit<PromRule, 'group' | 'lastEvaluation'> & {
            lastEvaluation: string;
          })[];
        }[];
      }>('/api/v1/rules');
      return groups.flatMap(({ name: group, rules }) =>
        rules.map(({ name, type, health, lastError, lastEvaluation }) => ({
          group,
          name,
          type,
          health,
          ...(lastError ? { lastError } : {}),
          lastEvaluation: Date.parse(lastEvaluation),
        })),
      );
    },
    output: () => output,
    stop,
  };
}
