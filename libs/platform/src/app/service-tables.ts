import {
  IDEMPOTENCY_KEYS_COLUMNS,
  type IdempotencyDatabase,
} from '@app/idempotency';
import {
  ID_COUNTERS_COLUMNS,
  type SchemaColumns,
  type WithIdCounters,
} from '@app/storage';

/**
 * The tables every service's database has besides its own: the id counters its creates take ids
 * from, and the Idempotency-Keys it remembers. A service's schema extends it.
 */
export interface ServiceTables extends WithIdCounters, IdempotencyDatabase {}

/** Their columns, for a service's `SchemaColumns` (its migrations create them). */
export const SERVICE_TABLES_COLUMNS: SchemaColumns<ServiceTables> = {
  id_counters: ID_COUNTERS_COLUMNS,
  idempotency_keys: IDEMPOTENCY_KEYS_COLUMNS,
};
