import type { SchemaColumns } from '@app/storage';
import type { ColumnType } from 'kysely';
import { Kysely } from 'kysely';

/**
 * The table of the PostgreSQL store, as its migration creates it. Times are epoch milliseconds
 * from the replicas' clocks (which tests can set), as bigint: they read back as strings.
 */
export interface IdempotencyKeysTable {
  key: string;
  fingerprint: string;
  /** Whose claim this is: a replica completes or releases only its own. */
  claim: string;
  status: number | null;
  /** The answer's body as JSON; node-postgres reads jsonb back parsed. */
  body: ColumnType<unknown, string | null, string | null>;
  created_at: ColumnType<string, number, number>;
  expires_at: ColumnType<string, number, number>;
  lease_until: ColumnType<string | null, number | null, number | null>;
}

export interface IdempotencyDatabase {
  idempotency_keys: IdempotencyKeysTable;
}

/** The table's columns, for the `SchemaColumns` of each service database that has it. */
export const IDEMPOTENCY_KEYS_COLUMNS: SchemaColumns<IdempotencyDatabase>['idempotency_keys'] =
  {
    key: { type: 'text', nullable: false },
    fingerprint: { type: 'text', nullable: false },
    claim: { type: 'uuid', nullable: false },
    status: { type: 'integer', nullable: true },
    body: { type: 'jsonb', nullable: true },
    created_at: { type: 'bigint', nullable: false },
    expires_at: { type: 'bigint', nullable: false },
    lease_until: { type: 'bigint', nullable: true },
  };

/** The table, created by each app's migrations (see their `migrations/index.ts`). */
export const idempotencyKeysMigration = {
  // Kysely<any>, as Kysely advises for migrations: they must not change with today's schema type.
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('idempotency_keys')
      .addColumn('key', 'text', (column) => column.primaryKey())
      .addColumn('fingerprint', 'text', (column) => column.notNull())
      .addColumn('claim', 'uuid', (column) => column.notNull())
      .addColumn('status', 'integer')
      .addColumn('body', 'jsonb')
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
