/**
 * The store cannot answer now (no connection, the server went away, a statement took too long).
 * Nothing was stored; the same request may succeed later.
 */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`The database is unavailable: ${reason}`, options);
  }
}

interface PgError {
  code?: string;
  constraint?: string;
  message?: string;
}

// SQLSTATE classes and codes that mean "not now": connection exceptions (08), operator
// intervention such as a server shutdown (57P0x), cancelled by statement_timeout (57014),
// insufficient resources (53), and the server's own restart (system errors, 58).
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0|57014|58)/;
// Node's socket errors and node-postgres' own for a connection that never came or went away.
const UNAVAILABLE_MESSAGE =
  /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN/i;

export function isUniqueViolation(
  error: unknown,
  constraint?: string,
): boolean {
  const pg = error as PgError | undefined;
  return (
    pg?.code === '23505' &&
    (constraint === undefined || pg.constraint === constraint)
  );
}

/** Serialization failures and deadlocks: the transaction may simply be run again. */
export function isRetryable(error: unknown): boolean {
  const code = (error as PgError | undefined)?.code;
  return code === '40001' || code === '40P01';
}

/** What a failed query means for the caller: unavailable, or a fault of ours kept as it is. */
export function toStoreError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  const pg = error as PgError | undefined;
  const code = pg?.code ?? '';
  if (UNAVAILABLE_SQLSTATE.test(code)) {
    return new StoreUnavailableError(
      code === '57014' ? 'a statement took too long' : `SQLSTATE ${code}`,
      { cause: error },
    );
  }
  if (UNAVAILABLE_MESSAGE.test(pg?.message ?? '')) {
    return new StoreUnavailableError('no connection', { cause: error });
  }
  return error;
}

/** A message safe to log or show: any database URL in it, password included, replaced. */
export function withoutDatabaseUrl(message: string): string {
  return message.replace(/postgres(ql)?:\/\/\S+/gi, '<database url>');
}
