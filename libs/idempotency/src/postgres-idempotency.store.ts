import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { Database } from '@app/storage';
import { Kysely, sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import type { IdempotencyDatabase } from './idempotency.migration';
import { Claim, ClaimLostError, IdempotencyStore } from './idempotency.store';
import { IdempotencySettings } from './idempotency.settings';

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
    private readonly database: Database<IdempotencyDatabase>,
    private readonly settings: IdempotencySettings,
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
        db
          .insertInto('idempotency_keys')
          .values({
            key,
            fingerprint,
            claim,
            created_at: now,
            expires_at: now + this.settings.IDEMPOTENCY_TTL_MS,
            lease_until: now + this.settings.IDEMPOTENCY_LEASE_MS,
          })
          .onConflict((conflict) =>
            conflict
              .column('key')
              .doUpdateSet((eb) => ({
                fingerprint: eb.ref('excluded.fingerprint'),
                claim: eb.ref('excluded.claim'),
                status: null,
                body: null,
                created_at: eb.ref('excluded.created_at'),
                expires_at: eb.ref('excluded.expires_at'),
                lease_until: eb.ref('excluded.lease_until'),
              }))
              .where((eb) =>
                eb.or([
                  eb('idempotency_keys.expires_at', '<=', String(now)),
                  eb.and([
                    eb('idempotency_keys.status', 'is', null),
                    eb('idempotency_keys.lease_until', '<=', String(now)),
                    eb(
                      'idempotency_keys.fingerprint',
                      '=',
                      eb.ref('excluded.fingerprint'),
                    ),
                  ]),
                ]),
              ),
          )
          .returning('claim')
          .execute(),
      );
      if (taken.length > 0) return { kind: 'new', entry: { claim } };
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

  async runFirst(
    key: string,
    claimed: object,
    status: number,
    handler: () => Promise<unknown>,
  ): Promise<unknown> {
    try {
      return await this.database.unitOfWork(handler, async (db, body) => {
        if (!(await storeAnswer(db, key, claimed, status, body)))
          throw new ClaimLostError(key);
      });
    } catch (error) {
      await this.release(key, claimed).catch(() => undefined);
      throw error;
    }
  }

  async complete(
    key: string,
    claimed: object,
    status: number,
    body: unknown,
  ): Promise<void> {
    await this.database.run((db) =>
      storeAnswer(db, key, claimed, status, body),
    );
  }

  async release(key: string, claimed: object): Promise<void> {
    await this.database.run((db) =>
      db
        .deleteFrom('idempotency_keys')
        .where('key', '=', key)
        .where('claim', '=', claimOf(claimed))
        // An answer that was stored (its commit reported lost, say) stays to be replayed.
        .where('status', 'is', null)
        .execute(),
    );
  }

  async forgetAnswers(fields: Record<string, unknown>): Promise<void> {
    await this.database.run((db) =>
      db
        .deleteFrom('idempotency_keys')
        .where(sql<boolean>`body @> ${JSON.stringify(fields)}::jsonb`)
        .execute(),
    );
  }

  /** Forgets expired keys, and the oldest beyond IDEMPOTENCY_MAX_KEYS. */
  async purge(): Promise<void> {
    const now = this.now();
    await this.database.run(async (db) => {
      await db
        .deleteFrom('idempotency_keys')
        .where('expires_at', '<=', String(now))
        .execute();
      await db
        .deleteFrom('idempotency_keys')
        .where('key', 'in', (eb) =>
          eb
            .selectFrom('idempotency_keys')
            .select('key')
            .orderBy('created_at', 'desc')
            .orderBy('key')
            .offset(this.settings.IDEMPOTENCY_MAX_KEYS),
        )
        .execute();
    });
  }

  onModuleDestroy(): void {
    clearInterval(this.purging);
  }
}

/** Stores the answer of a claim still held; false when it is not (taken over, purged). */
async function storeAnswer(
  db: Kysely<IdempotencyDatabase>,
  key: string,
  claimed: object,
  status: number,
  body: unknown,
): Promise<boolean> {
  const { numUpdatedRows } = await db
    .updateTable('idempotency_keys')
    .set({ status, body: JSON.stringify(body ?? null), lease_until: null })
    .where('key', '=', key)
    .where('claim', '=', claimOf(claimed))
    .executeTakeFirst();
  return numUpdatedRows > 0n;
}

/** The entry `claim` handed out (see above): the claim's uuid. */
function claimOf(claimed: object): string {
  return 'claim' in claimed && typeof claimed.claim === 'string'
    ? claimed.claim
    : '';
}
