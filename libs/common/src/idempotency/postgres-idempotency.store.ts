import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { Database } from '@app/database';
import { Kysely, sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import { ServiceConfig } from '../service.config';
import { Claim, IdempotencyStore } from './idempotency.store';

/** The table, created by each app's migrations. */
export const idempotencyKeysMigration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('idempotency_keys')
      .addColumn('key', 'text', (column) => column.primaryKey())
      .addColumn('fingerprint', 'text', (column) => column.notNull())
      // Whose claim this is: a replica completes or releases only its own.
      .addColumn('claim', 'uuid', (column) => column.notNull())
      .addColumn('status', 'integer')
      .addColumn('body', 'jsonb')
      // Epoch milliseconds from the replicas' clocks, which tests can set.
      .addColumn('created_at', 'bigint', (column) => column.notNull())
      .addColumn('expires_at', 'bigint', (column) => column.notNull())
      .addColumn('lease_until', 'bigint')
      .execute();
    await db.schema
      .createIndex('idempotency_keys_created_at_idx')
      .on('idempotency_keys')
      .column('created_at')
      .execute();
  },
};

const PURGE_EVERY_MS = 60_000;
const CLAIM_ATTEMPTS = 3;

/**
 * Keys in the app's database, shared by its replicas: a key replayed on another replica gets the
 * stored answer. A key in flight is held by a lease; a replica that dies mid-request leaves a
 * lease that lapses, and the next request with the key and the same body takes it over. Expired
 * keys, and the oldest beyond the bound, are purged every minute.
 */
@Injectable()
export class PostgresIdempotencyStore
  extends IdempotencyStore
  implements OnModuleDestroy
{
  private readonly logger = new Logger(PostgresIdempotencyStore.name);
  private readonly purging: NodeJS.Timeout;

  constructor(
    private readonly database: Database,
    private readonly config: ServiceConfig,
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.purging = setInterval(() => {
      if (this.database.isPrepared)
        this.purge().catch((error: Error) =>
          this.logger.warn(`Purging idempotency keys failed: ${error.message}`),
        );
    }, PURGE_EVERY_MS).unref();
  }

  async claim(key: string, fingerprint: string): Promise<Claim> {
    for (let attempt = 1; ; attempt++) {
      const now = this.now();
      const claim = randomUUID();
      // Takes the key when it is new, expired, or held by a lapsed lease for this same request.
      const taken = await this.database.run((db) =>
        sql<{ claim: string }>`
          insert into idempotency_keys as k
            (key, fingerprint, claim, created_at, expires_at, lease_until)
          values (${key}, ${fingerprint}, ${claim}, ${now},
                  ${now + this.config.IDEMPOTENCY_TTL_MS},
                  ${now + this.config.IDEMPOTENCY_LEASE_MS})
          on conflict (key) do update set
            fingerprint = excluded.fingerprint, claim = excluded.claim,
            status = null, body = null, created_at = excluded.created_at,
            expires_at = excluded.expires_at, lease_until = excluded.lease_until
          where k.expires_at <= ${now}
             or (k.status is null and k.lease_until <= ${now}
                 and k.fingerprint = excluded.fingerprint)
          returning claim`.execute(db),
      );
      if (taken.rows.length > 0) return { kind: 'new', entry: { claim } };
      const found = await this.database.run((db) =>
        db
          .selectFrom('idempotency_keys')
          .select(['fingerprint', 'status', 'body'])
          .where('key', '=', key)
          .executeTakeFirst(),
      );
      if (!found) {
        // Released or purged between the two statements: try to take it again.
        if (attempt < CLAIM_ATTEMPTS) continue;
        return { kind: 'in-progress' };
      }
      if (found.fingerprint !== fingerprint) return { kind: 'mismatch' };
      return found.status === null
        ? { kind: 'in-progress' }
        : { kind: 'replay', status: found.status, body: found.body };
    }
  }

  async complete(
    key: string,
    claimed: object,
    status: number,
    body: unknown,
  ): Promise<void> {
    await this.database.run((db) =>
      db
        .updateTable('idempotency_keys')
        .set({
          status,
          body: JSON.stringify(body ?? null),
          lease_until: null,
        })
        .where('key', '=', key)
        .where('claim', '=', (claimed as { claim: string }).claim)
        .execute(),
    );
  }

  async release(key: string, claimed: object): Promise<void> {
    await this.database.run((db) =>
      db
        .deleteFrom('idempotency_keys')
        .where('key', '=', key)
        .where('claim', '=', (claimed as { claim: string }).claim)
        .execute(),
    );
  }

  /** Forgets expired keys, and the oldest beyond IDEMPOTENCY_MAX_KEYS. */
  async purge(): Promise<void> {
    const now = this.now();
    await this.database.run(async (db) => {
      await db
        .deleteFrom('idempotency_keys')
        .where('expires_at', '<=', now)
        .execute();
      await sql`
        delete from idempotency_keys where key in (
          select key from idempotency_keys
          order by created_at desc, key
          offset ${this.config.IDEMPOTENCY_MAX_KEYS})`.execute(db);
    });
  }

  onModuleDestroy(): void {
    clearInterval(this.purging);
  }
}
