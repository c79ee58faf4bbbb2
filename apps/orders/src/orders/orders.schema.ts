import type { IdempotencyKeysTable } from '@app/idempotency';
import type { IdCountersTable, SchemaColumns } from '@app/storage';
import type { ColumnType } from 'kysely';

/** As the migrations beside this file create it; bigint ids read back as strings. */
export interface OrdersTable {
  id: ColumnType<string, number, never>;
  user_id: ColumnType<string, number, never>;
  product: string;
}

/** The orders database: what `Kysely<OrdersDatabase>` may query. */
export interface OrdersDatabase {
  orders: OrdersTable;
  id_counters: IdCountersTable;
  idempotency_keys: IdempotencyKeysTable;
}

/** Every column of the schema, held to it by the compiler; a test compares it with the migrations. */
export const ORDERS_SCHEMA: SchemaColumns<OrdersDatabase> = {
  orders: {
    id: { type: 'bigint', nullable: false },
    user_id: { type: 'bigint', nullable: false },
    product: { type: 'text', nullable: false },
  },
  id_counters: {
    name: { type: 'text', nullable: false },
    last_id: { type: 'bigint', nullable: false },
  },
  idempotency_keys: {
    key: { type: 'text', nullable: false },
    fingerprint: { type: 'text', nullable: false },
    claim: { type: 'uuid', nullable: false },
    status: { type: 'integer', nullable: true },
    body: { type: 'jsonb', nullable: true },
    created_at: { type: 'bigint', nullable: false },
    expires_at: { type: 'bigint', nullable: false },
    lease_until: { type: 'bigint', nullable: true },
  },
};
