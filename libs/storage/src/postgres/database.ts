import { Logger } from '@nestjs/common';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Migration, MigrationResultSet, Migrator } from 'kysely/migration';
import { Client, Pool } from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  explainFailure,
  isRetryable,
  StoreUnavailableError,
  toStoreError,
} from './errors';
import { ReadOnlyAwarePool } from './read-only-aware-pool';
import { UnitOfWork } from './unit-of-work';

export interface DatabaseOptions {
  /** `postgres://user:password@host:port/database`; may carry `?sslmode=...`. */
  url: string;
  /** Where migrations run when `url` is a pooler; `url` when not given. */
  migrationUrl?: string;
  /**
   * `transaction`: `url` is a pooler in transaction mode (PgBouncer), which refuses session
   * settings at connect; the statement timeout is then the pooler's.
   */
  pooler?: 'none' | 'transaction';
  /** Shown in pg_stat_activity. */
  applicationName: string;
  poolMax: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  /** Apply pending migrations when the app starts, or only check the database answers. */
  migrateAtStart: boolean;
  /** Every migration of this app's database, by name; names sort in the order they apply. */
  migrations: Record<string, Migration>;
}

export interface DatabaseStatus {
  up: boolean;
  detail: string;
}

const BACKOFF_MS = { first: 250, max: 10_000 };

/**
 * node-postgres leaves the socket of a connection that failed while it authenticated open
 * (brianc/node-postgres#2907): a URL without the password the server asks for, say. The server
 * keeps that backend until its authentication_timeout (a minute), and meanwhile PostgreSQL 15
 * cannot drop a database. This client closes the connection when its start fails.
 */
class ClosingClient extends Client {
  override connect(): Promise<Client>;
  override connect(callback: (error: Error) => void): void;
  override connect(callback?: (error: Error) => void): Promise<Client> | void {
    if (!callback) return super.connect();
    super.connect((error: Error) => {
      if (error) void this.end().catch(() => undefined);
      callback(error);
    });
  }
}

/**
 * The database holds another service's data: the first migration applied to it is not one of
 * this service's. Nothing is done to it; the service refuses to start.
 */
export class ForeignDatabaseError extends Error {
  override name = 'ForeignDatabaseError';
  constructor(service: string, first: string) {
    super(
      `${service}: its database was migrated by another service (the first migration applied there, ${first}, is not one of the ${service} service's); ` +
        `each service needs a database of its own: point DATABASE_URL at the ${service} service's own database`,
    );
  }
}
const MAX_ATTEMPTS_FOR_RETRYABLE = 3;

/**
 * One app's PostgreSQL database: a connection pool, the app's migrations, and what readiness
 * reports. `DB` is the app's schema (see its `*.schema.ts`, beside its migrations). Queries go through `run`, which turns a lost or slow database into
 * `StoreUnavailableError` and runs again what PostgreSQL says may be run again. A connection
 * that met a read-only server (a failover) is closed, not reused: see `ReadOnlyAwarePool`.
 */
export class Database<DB = unknown> {
  readonly kysely: Kysely<DB>;
  private readonly connections: Pool;
  private readonly logger = new Logger('Database');
  private prepared = false;
  private lastProblem = 'not connected yet';
  private stopping = false;
  private preparing?: Promise<void>;
  private readonly units = new AsyncLocalStorage<UnitOfWork<DB>>();

  constructor(private readonly options: DatabaseOptions) {
    this.connections = this.openPool(options.url, options.poolMax);
    this.kysely = new Kysely<DB>({
      dialect: new PostgresDialect({
        pool: new ReadOnlyAwarePool(this.connections),
      }),
    });
  }

  /**
   * A pool to `url`. Behind a pooler in transaction mode it sends no session settings at connect
   * (PgBouncer refuses a `statement_timeout` there: "unsupported startup parameter"); directly,
   * the server cancels a statement past the timeout.
   */
  private openPool(url: string, max: number): Pool {
    const { applicationName, connectTimeoutMs, statementTimeoutMs } =
      this.options;
    const direct =
      this.options.pooler !== 'transaction' ||
      url === this.options.migrationUrl;
    const pool = new Pool({
      Client: ClosingClient,
      connectionString: url,
      application_name: applicationName,
      max,
      connectionTimeoutMillis: connectTimeoutMs,
      ...(direct && { statement_timeout: statementTimeoutMs }),
      // The server's timeout needs a live server; this one also ends a wait on a dead socket.
      query_timeout: statementTimeoutMs + connectTimeoutMs,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
    });
    // An idle connection the server drops must not crash the process: the pool replaces it.
    pool.on('error', (error) =>
      this.logger.warn(`Idle database connection lost: ${error.message}`),
    );
    // Nor one lost while checked out: node-postgres then rejects the query (which becomes a 503)
    // and also emits 'error' on the client, where the pool listens only while it is idle. With no
    // listener, that event would kill the process.
    pool.on('connect', (client) =>
      client.on('error', (error) =>
        this.logger.warn(`Database connection lost: ${error.message}`),
      ),
    );
    return pool;
  }

  /** The pool's connections now, for metrics: in use, idle, and requests waiting for one. */
  get pool(): { used: number; idle: number; waiting: number; max: number } {
    const { totalCount, idleCount, waitingCount } = this.connections;
    return {
      used: totalCount - idleCount,
      idle: idleCount,
      waiting: waitingCount,
      max: this.options.poolMax,
    };
  }

  /** Ready for queries: connected, and migrated when this process is to migrate. */
  get isPrepared(): boolean {
    return this.prepared;
  }

  /** The longest a statement may run, as the server is told; also how long a group waits. */
  get statementTimeoutMs(): number {
    return this.options.statementTimeoutMs;
  }

  /** The unit of work the caller runs in on this database, if any (see `unitOfWork`). */
  get unit(): UnitOfWork<DB> | undefined {
    return this.units.getStore();
  }

  /**
   * Runs a query. Inside a unit of work it runs in the unit's transaction, as it is; outside, on
   * its own, run again on a serialization failure or deadlock.
   */
  async run<T>(query: (db: Kysely<DB>) => Promise<T>): Promise<T> {
    const unit = this.units.getStore();
    if (unit) {
      try {
        return await query(await unit.current());
      } catch (error) {
        throw toStoreError(error);
      }
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await query(this.kysely);
      } catch (error) {
        if (isRetryable(error) && attempt < MAX_ATTEMPTS_FOR_RETRYABLE)
          continue;
        throw toStoreError(error);
      }
    }
  }

  /**
   * Runs `work` as one unit: what it writes on this database, and what `finish` writes with its
   * result, commit together or not at all. Its first statement begins the transaction (or its
   * create joins a group's, see `GroupedInserts`), so a unit holds no connection before it writes.
   * A unit that wrote nothing runs `finish` on its own. When `work` or `finish` throws, nothing of
   * the unit stays; when the commit fails, `StoreUnavailableError`.
   */
  async unitOfWork<T>(
    work: () => Promise<T>,
    finish: (db: Kysely<DB>, result: T) => Promise<void>,
  ): Promise<T> {
    const unit = new UnitOfWork(this.kysely);
    let result: T;
    try {
      result = await this.units.run(unit, work);
      await finish(unit.finishing, result);
    } catch (error) {
      await unit.abandon();
      throw toStoreError(error);
    }
    try {
      await unit.commit();
    } catch (error) {
      const mapped = toStoreError(error);
      throw mapped instanceof StoreUnavailableError
        ? mapped
        : new StoreUnavailableError((error as Error).message, { cause: error });
    }
    return result;
  }

  /**
   * Applies pending migrations under Kysely's lock: of replicas starting together, one applies.
   * They run on `migrationUrl` when given (PostgreSQL itself, not a pooler), over a connection of
   * their own, closed after. @throws ForeignDatabaseError for another service's database
   */
  async migrate(): Promise<string[]> {
    const { migrationUrl } = this.options;
    const db =
      migrationUrl && migrationUrl !== this.options.url
        ? new Kysely<DB>({
            dialect: new PostgresDialect({
              pool: new ReadOnlyAwarePool(this.openPool(migrationUrl, 1)),
            }),
          })
        : this.kysely;
    try {
      await this.refuseForeign(db);
      const migrator = new Migrator({
        db,
        provider: { getMigrations: async () => this.options.migrations },
      });
      const { error, results }: MigrationResultSet =
        await migrator.migrateToLatest();
      if (error) throw error;
      return (results ?? [])
        .filter((result) => result.status === 'Success')
        .map((result) => result.migrationName);
    } finally {
      if (db !== this.kysely) await db.destroy();
    }
  }

  /** Refuses a database whose first migration is not one of this service's. */
  private async refuseForeign(db: Kysely<DB>): Promise<void> {
    const { rows } = await sql<{ name: string }>`
      select name from kysely_migration order by name limit 1`
      .execute(db)
      .catch((error: { code?: string }) => {
        // No migration was ever applied (the table does not exist): nothing to refuse.
        if (error.code === '42P01') return { rows: [] };
        throw error;
      });
    const first = rows[0]?.name;
    if (first !== undefined && !(first in this.options.migrations))
      throw new ForeignDatabaseError(this.options.applicationName, first);
  }

  /**
   * Connects (and migrates) in the background, with backoff, so that the process serves
   * liveness and a 503 readiness with the reason while the database is not there yet.
   */
  start(): Promise<void> {
    this.preparing ??= this.prepareWithBackoff();
    return this.preparing;
  }

  async status(): Promise<DatabaseStatus> {
    if (!this.prepared) return { up: false, detail: this.lastProblem };
    try {
      await this.run((db) => sql`select 1`.execute(db));
      return { up: true, detail: 'connected' };
    } catch (error) {
      return { up: false, detail: this.describe(error) };
    }
  }

  async close(): Promise<void> {
    this.stopping = true;
    // A start that refused the database has said so already.
    await this.preparing?.catch(() => undefined);
    await this.kysely.destroy();
  }

  /** Why the database failed, in words safe to log and to show: never the URL or its password. */
  private describe(error: unknown): string {
    const mapped = toStoreError(error);
    const cause =
      mapped instanceof StoreUnavailableError ? mapped.cause : mapped;
    return explainFailure(cause, this.options.url);
  }

  private async prepareWithBackoff(): Promise<void> {
    for (let delay = BACKOFF_MS.first; !this.stopping;) {
      try {
        if (this.options.migrateAtStart) {
          const applied = await this.migrate();
          if (applied.length > 0)
            this.logger.log(`Applied migrations: ${applied.join(', ')}`);
        } else {
          await this.refuseForeign(this.kysely);
        }
        this.prepared = true;
        this.logger.log('Database connected');
        return;
      } catch (error) {
        // Trying again would not change it, and serving another service's data must not start.
        if (error instanceof ForeignDatabaseError) throw error;
        this.lastProblem = this.describe(error);
        this.logger.warn(
          `Database not ready (${this.lastProblem}); trying again in ${delay} ms`,
        );
        await sleep(delay);
        delay = Math.min(delay * 2, BACKOFF_MS.max);
      }
    }
  }
}
