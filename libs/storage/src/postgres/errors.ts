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
// insufficient resources (53), the server's own restart (system errors, 58), and a database the
// service cannot use as configured: refused credentials (28) or a database that does not exist
// (3D000). The last two need an operator, but the request was not at fault either. And a server
// that cannot write (25006, read_only_sql_transaction): a standby the connection landed on, or an
// old primary back as one after a failover; the primary is elsewhere now, or soon.
const UNAVAILABLE_SQLSTATE = /^(08|28|53|57P0|57014|58|3D000|25006)/;
// Node's socket errors and node-postgres' own for a connection that never came or went away, or
// that could not authenticate (a URL without the password the server asks for).
const UNAVAILABLE_MESSAGE =
  /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|^SASL:/i;

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

/**
 * The server refused a write because it cannot write: a standby, or an old primary that came back
 * as one. The connection stays on that server, so it is no use for writing; see `ReadOnlyAwarePool`.
 */
export function isReadOnly(error: unknown): boolean {
  return (error as PgError | undefined)?.code === '25006';
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
      code === '57014'
        ? 'a statement took too long'
        : code === '3D000'
          ? 'its database does not exist'
          : code.startsWith('28')
            ? 'the server refused its credentials'
            : isReadOnly(error)
              ? 'the server is read-only (a standby, not the primary)'
              : `SQLSTATE ${code}`,
      { cause: error },
    );
  }
  if (UNAVAILABLE_MESSAGE.test(pg?.message ?? '')) {
    return new StoreUnavailableError('no connection', { cause: error });
  }
  return error;
}

/**
 * What to do about a failure that needs the operator, said in full: the database to create, the
 * password to give. Other failures are described by their own message.
 */
export function explainFailure(error: unknown, url: string): string {
  const pg = error as PgError | undefined;
  const message = pg?.message ?? String(error);
  let where: URL | undefined;
  try {
    where = new URL(url);
  } catch {
    // Validated at start; a URL that does not parse is said as it is below.
  }
  const name = decodeURIComponent(where?.pathname.slice(1) ?? '') || '?';
  const host = where ? `${where.hostname}:${where.port || 5432}` : 'the server';
  if (pg?.code === '3D000')
    return (
      `${message} on ${host}: create it (as a user allowed to: createdb -h ${where?.hostname ?? 'host'} ` +
      `-p ${where?.port || 5432} ${name}, or CREATE DATABASE ${name}) or point DATABASE_URL at the service's own database`
    );
  if (/^SASL: .*password must be a string/.test(message))
    return (
      `the server on ${host} asks for a password and DATABASE_URL gives none: ` +
      `write it as postgres://user:password@${host}/${name}`
    );
  return withoutDatabaseUrl(message);
}

/** A message safe to log or show: any database URL in it, password included, replaced. */
export function withoutDatabaseUrl(message: string): string {
  return message.replace(/postgres(ql)?:\/\/\S+/gi, '<database url>');
}
