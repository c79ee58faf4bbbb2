import type { Migration } from 'kysely/migration';
import { idempotencyKeysMigration } from '@app/idempotency';
import * as createOrders from './0001-create-orders';
import * as seedOrders from './0002-seed-orders';

/**
 * The orders database's schema, in the order it is applied; a released migration never changes.
 * `../orders.schema.ts` is the type of what they build (a test compares the two).
 */
export const ORDERS_MIGRATIONS: Record<string, Migration> = {
  '0001-create-orders': createOrders,
  '0002-seed-orders': seedOrders,
  '0003-create-idempotency-keys': idempotencyKeysMigration,
};
