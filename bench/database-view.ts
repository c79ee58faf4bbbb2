// The database's own view of a benchmark run: which statements each implementation sent, how
// often and how long each took (pg_stat_statements), what its sessions waited on (sampled from
// pg_stat_activity), and how much CPU the server spent. Read from the throwaway cluster's
// superuser session, between and during the load runs.
import { Client } from 'pg';
import { readdirSync, readFileSync } from 'node:fs';

export interface StatementFigures {
  query: string;
  calls: number;
  meanMs: number;
}

export interface DatabaseSample {
  /** Every statement the implementation's databases ran, most called first. */
  statements: StatementFigures[];
  /** Statements per request answered: each is a round trip to the server. */
  roundTrips: number;
  /** Wait events of the implementation's active sessions, as shares of the samples (CPU: none). */
  waits: Map<string, number>;
  /** CPU time of the server's processes per request answered, in µs. */
  cpuUs: number;
}

const CLOCK_TICKS = 100;

/** User plus system CPU of each process of the cluster (the postmaster and its children), in ticks. */
function serverTicks(postmaster: number): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8')
        .split(') ')[1]
        .split(' ');
      const pid = Number(entry);
      if (pid === postmaster || Number(fields[1]) === postmaster)
        ticks.set(pid, Number(fields[11]) + Number(fields[12]));
    } catch {
      // A backend that ended while the list was read.
    }
  }
  return ticks;
}

/**
 * The CPU the cluster used between two readings, in ms: what each process used since the first
 * (all of it for one that started since); a backend that ended meanwhile is not counted.
 */
function cpuBetween(
  before: Map<number, number>,
  after: Map<number, number>,
): number {
  let ticks = 0;
  for (const [pid, now] of after) ticks += now - (before.get(pid) ?? 0);
  return (ticks * 1000) / CLOCK_TICKS;
}

export class DatabaseView {
  private constructor(
    private readonly client: Client,
    private readonly postmaster: number,
  ) {}

  /** Connects as the superuser; the cluster must preload pg_stat_statements. */
  static async open(url: string, postmaster: number): Promise<DatabaseView> {
    const client = new Client({ connectionString: url });
    await client.connect();
    await client.query('create extension if not exists pg_stat_statements');
    return new DatabaseView(client, postmaster);
  }

  /**
   * Runs `load` and returns what the databases named did meanwhile: the statistics are reset
   * before, and active sessions sampled every 20 ms while it runs.
   */
  async during<T extends { total: number }>(
    databases: string[],
    load: () => Promise<T>,
  ): Promise<{ result: T; database: DatabaseSample }> {
    await this.client.query('select pg_stat_statements_reset()');
    const cpuBefore = serverTicks(this.postmaster);
    const waits = new Map<string, number>();
    let samples = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const { rows } = await this.client.query<{ wait: string }>(
          `select coalesce(wait_event_type || ':' || wait_event, 'CPU') as wait
             from pg_stat_activity
            where datname = any($1) and state = 'active' and pid <> pg_backend_pid()`,
          [databases],
        );
        samples += rows.length;
        for (const { wait } of rows)
          waits.set(wait, (waits.get(wait) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const result = await load();
    sampling = false;
    await sampler;
    const cpuUsed = cpuBetween(cpuBefore, serverTicks(this.postmaster));
    const { rows } = await this.client.query<{
      query: string;
      calls: string;
      mean_ms: number;
    }>(
      `select s.query, s.calls, s.mean_exec_time as mean_ms
         from pg_stat_statements s join pg_database d on d.oid = s.dbid
        where d.datname = any($1)
        order by s.calls desc`,
      [databases],
    );
    const statements = rows.map((row) => ({
      query: row.query.replace(/\s+/g, ' '),
      calls: Number(row.calls),
      meanMs: row.mean_ms,
    }));
    const answered = Math.max(1, result.total);
    return {
      result,
      database: {
        statements,
        roundTrips:
          statements.reduce((sum, statement) => sum + statement.calls, 0) /
          answered,
        waits: new Map(
          [...waits].map(([wait, count]) => [
            wait,
            count / Math.max(1, samples),
          ]),
        ),
        cpuUs: (cpuUsed * 1000) / answered,
      },
    };
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}
