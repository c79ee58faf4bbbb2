import {
  explainFailure,
  isReadOnly,
  isRetryable,
  isUniqueViolation,
  StoreUnavailableError,
  toStoreError,
  withoutDatabaseUrl,
} from './errors';

/** An error as node-postgres makes one for a server's refusal. */
const pgError = (code: string, message = `refused with ${code}`) =>
  Object.assign(new Error(message), { code });

describe('the store errors', () => {
  it('names an unavailable store and says why in its message', () => {
    const error = new StoreUnavailableError('no connection');
    expect(error.name).toBe('StoreUnavailableError');
    expect(error.message).toBe('The database is unavailable: no connection');
  });

  it.each([
    ['08006', 'SQLSTATE 08006'],
    ['57P01', 'SQLSTATE 57P01'],
    ['57014', 'a statement took too long'],
    ['53300', 'SQLSTATE 53300'],
    ['58030', 'SQLSTATE 58030'],
    ['28P01', 'the server refused its credentials'],
    ['3D000', 'its database does not exist'],
    ['25006', 'the server is read-only (a standby, not the primary)'],
  ])('turns SQLSTATE %s into an unavailable store: %s', (code, reason) => {
    const cause = pgError(code);
    const error = toStoreError(cause);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ reason, cause });
  });

  it.each(['42P08', '23505', '22P02', '40001'])(
    'keeps SQLSTATE %s as the fault it is: only a class at the start of the code means "not now"',
    (code) => {
      const error = pgError(code);
      expect(toStoreError(error)).toBe(error);
    },
  );

  it.each([
    'connect ECONNREFUSED 127.0.0.1:5432',
    'Connection terminated unexpectedly',
    'timeout exceeded when trying to connect',
    'SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string',
  ])(
    'turns a connection that never came or went away into an unavailable store: %s',
    (message) => {
      const cause = new Error(message);
      expect(toStoreError(cause)).toMatchObject({
        name: 'StoreUnavailableError',
        reason: 'no connection',
        cause,
      });
    },
  );

  it('keeps a message that only mentions SASL further on as the fault it is', () => {
    const error = new Error('column "sasl" says SASL: nothing');
    expect(toStoreError(error)).toBe(error);
  });

  it('keeps an unavailable store as it is, whatever its reason says', () => {
    const error = new StoreUnavailableError(
      'connect ECONNREFUSED 10.0.0.1:5432',
    );
    expect(toStoreError(error)).toBe(error);
  });

  it('tells a unique violation of one constraint from another', () => {
    const violation = Object.assign(pgError('23505'), {
      constraint: 'users_email_lower_key',
    });
    expect(isUniqueViolation(violation)).toBe(true);
    expect(isUniqueViolation(violation, 'users_email_lower_key')).toBe(true);
    expect(isUniqueViolation(violation, 'orders_pkey')).toBe(false);
    expect(isUniqueViolation(pgError('23503'))).toBe(false);
  });

  it('tells a read-only server and a transaction worth running again', () => {
    expect(isReadOnly(pgError('25006'))).toBe(true);
    expect(isReadOnly(pgError('25001'))).toBe(false);
    expect(isRetryable(pgError('40001'))).toBe(true);
    expect(isRetryable(pgError('40P01'))).toBe(true);
    expect(isRetryable(pgError('25006'))).toBe(false);
  });

  describe('explainFailure', () => {
    it('says how to create a database that does not exist, port 5432 when the URL has none', () => {
      const missing = pgError('3D000', 'database "shop" does not exist');
      expect(explainFailure(missing, 'postgres://app:secret@db/shop')).toBe(
        'database "shop" does not exist on db:5432: create it (as a user allowed to: createdb -h db -p 5432 shop, ' +
          "or CREATE DATABASE shop) or point DATABASE_URL at the service's own database",
      );
      expect(
        explainFailure(missing, 'postgres://app:secret@db:6543/shop'),
      ).toContain(
        'on db:6543: create it (as a user allowed to: createdb -h db -p 6543 shop',
      );
    });

    it('says it with placeholders where the URL does not parse', () => {
      expect(
        explainFailure(
          pgError('3D000', 'database "shop" does not exist'),
          'not a url',
        ),
      ).toBe(
        'database "shop" does not exist on the server: create it (as a user allowed to: createdb -h host -p 5432 ?, ' +
          "or CREATE DATABASE ?) or point DATABASE_URL at the service's own database",
      );
    });

    it('says where the password goes when the server asks for one the URL does not give', () => {
      expect(
        explainFailure(
          new Error(
            'SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string',
          ),
          'postgres://app@db/shop',
        ),
      ).toBe(
        'the server on db:5432 asks for a password and DATABASE_URL gives none: ' +
          'write it as postgres://user:password@db:5432/shop',
      );
    });

    it('says any other failure as it is, without the database URL in it', () => {
      expect(
        explainFailure(
          new Error('could not reach postgres://app:secret@db/shop in time'),
          'postgres://app:secret@db/shop',
        ),
      ).toBe('could not reach <database url> in time');
      expect(
        explainFailure(new Error('not SASL: password must be a string'), 'x'),
      ).toBe('not SASL: password must be a string');
    });
  });

  it('takes every database URL, password and all, out of a message', () => {
    expect(
      withoutDatabaseUrl(
        'from postgresql://app:secret@db/shop and POSTGRES://u:p@h/d failed',
      ),
    ).toBe('from <database url> and <database url> failed');
  });
});
