import { EnvInt } from '@app/config';
import { IsIn, IsInt, Matches, Max, Min } from 'class-validator';

/** A service's own PostgreSQL database, from its environment; see docs/operations.md. */
export class DatabaseSettings {
  /** This service's own PostgreSQL database; empty keeps everything in process memory. */
  @Matches(/^$|^postgres(ql)?:\/\/\S+$/, {
    message:
      '$property must be empty or a URL like postgres://user:password@host:5432/database',
  })
  DATABASE_URL = '';

  /**
   * Where migrations run, when `DATABASE_URL` goes through a pooler in transaction mode:
   * PostgreSQL itself. Empty: `DATABASE_URL`.
   */
  @Matches(/^$|^postgres(ql)?:\/\/\S+$/, {
    message:
      '$property must be empty or a URL like postgres://user:password@host:5432/database',
  })
  DATABASE_MIGRATION_URL = '';

  /**
   * `transaction` when `DATABASE_URL` is a pooler that hands out a server connection per
   * transaction (PgBouncer's transaction mode): the services then send no session settings,
   * which such a pooler refuses, and the statement timeout is the pooler's (`query_timeout`).
   */
  @IsIn(['none', 'transaction'])
  DATABASE_POOLER: 'none' | 'transaction' = 'none';

  /** Connections this process keeps to the database at most. */
  @EnvInt()
  @Max(1000)
  @Min(1)
  @IsInt()
  DATABASE_POOL_MAX = 10;

  /** How long a request waits for a free or new connection before it gets a 503. */
  @EnvInt()
  @Max(60_000)
  @Min(100)
  @IsInt()
  DATABASE_CONNECT_TIMEOUT_MS = 2000;

  /** The server cancels any statement running longer than this (503 to the client). */
  @EnvInt()
  @Max(600_000)
  @Min(100)
  @IsInt()
  DATABASE_STATEMENT_TIMEOUT_MS = 5000;

  /** Apply pending migrations at start (under a lock); `false` when a release step runs them. */
  @IsIn(['true', 'false'])
  DATABASE_MIGRATE_AT_START: 'true' | 'false' = 'true';
}
