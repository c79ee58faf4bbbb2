import type {
  PostgresCursor,
  PostgresPool,
  PostgresPoolClient,
  PostgresQueryResult,
} from 'kysely';
import type { Pool, PoolClient } from 'pg';
import { isReadOnly } from './errors';

type Command = PostgresQueryResult<unknown>['command'];
const COMMANDS: readonly Command[] = [
  'UPDATE',
  'DELETE',
  'INSERT',
  'SELECT',
  'MERGE',
  'COMMIT',
  'ROLLBACK',
];

/**
 * node-postgres' pool as Kysely draws from it, except that it lets go of connections to a server
 * that cannot write. When a server answers read-only (SQLSTATE 25006: a standby the connection
 * landed on, or an old primary back as a standby after a failover), that connection, and every
 * connection opened before it, is closed instead of reused: at its release if it is in use, at its
 * next checkout if it is idle. The next request then opens a fresh connection, which reaches the
 * primary wherever the address (HAProxy, a Kubernetes Service, a DNS name) now leads. Connections
 * opened after it are kept: they may already have reached the new primary, and any that did not
 * fails a write once and is let go the same way.
 */
export class ReadOnlyAwarePool implements PostgresPool {
  /** Connections opened so far; each is numbered in the order it opened. */
  private opened = 0;
  /** Connections numbered up to this one are let go. */
  private staleUpTo = 0;
  private readonly connections = new WeakMap<PoolClient, Connection>();

  constructor(private readonly pool: Pool) {}

  /** Kysely reads these to open a control connection; the pool's own. */
  get options(): object {
    return this.pool.options;
  }

  async connect(): Promise<PostgresPoolClient> {
    for (;;) {
      const client = await this.pool.connect();
      let connection = this.connections.get(client);
      if (!connection) {
        connection = new Connection(client, ++this.opened, this);
        this.connections.set(client, connection);
      }
      if (!this.isStale(connection.number)) return connection;
      // Idle since before a read-only answer: likely on the same server. Closed, and another.
      client.release(true);
    }
  }

  end(): Promise<void> {
    return this.pool.end();
  }

  isStale(number: number): boolean {
    return number <= this.staleUpTo;
  }

  /** Connection `number` met a read-only server: it and the older ones are let go. */
  readOnlyMet(number: number): void {
    this.staleUpTo = Math.max(this.staleUpTo, number);
  }
}

/** One connection of the pool, as Kysely uses it: its queries, and its release. */
class Connection implements PostgresPoolClient {
  constructor(
    private readonly client: PoolClient,
    readonly number: number,
    private readonly pool: ReadOnlyAwarePool,
  ) {}

  query<R>(
    sql: string,
    parameters: ReadonlyArray<unknown>,
  ): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(
    sql: string | PostgresCursor<R>,
    parameters: ReadonlyArray<unknown> = [],
  ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    // The dialect is given no cursor class, so Kysely never streams through this pool.
    if (typeof sql !== 'string')
      throw new Error('streaming queries are not supported here');
    return this.client.query(sql, [...parameters]).then(
      ({ command, rowCount, rows }) => ({
        // Kysely looks at the tag only for COMMIT, ROLLBACK and the four that change rows; any
        // other (BEGIN, SET, ...) means to it what SELECT does.
        command: COMMANDS.find((known) => known === command) ?? 'SELECT',
        rowCount: rowCount ?? 0,
        rows,
      }),
      (error: unknown) => {
        if (isReadOnly(error)) this.pool.readOnlyMet(this.number);
        throw error;
      },
    );
  }

  /** Back to the pool, or closed: when Kysely asks, or when it met (or is older than) a read-only server. */
  release(destroy?: boolean): void {
    this.client.release(destroy === true || this.pool.isStale(this.number));
  }
}
