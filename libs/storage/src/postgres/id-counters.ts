import { sql, type ColumnType, type QueryCreator } from 'kysely';
import type { SchemaColumns } from './schema-columns';

/**
 * The counter rows ids come from, one per kind of record. PostgreSQL's bigint comes back as a
 * string; ids stay below 2^53 (the API refuses larger ones), so `Number()` keeps them exact.
 */
export interface IdCountersTable {
  name: string;
  last_id: ColumnType<string, number, never>;
}

export interface WithIdCounters {
  id_counters: IdCountersTable;
}

/** The counters' columns, for a service's `SchemaColumns` (its database has the table). */
export const ID_COUNTERS_COLUMNS: SchemaColumns<WithIdCounters>['id_counters'] =
  {
    name: { type: 'text', nullable: false },
    last_id: { type: 'bigint', nullable: false },
  };

/**
 * The next id of `counter`, for a `with next_id as (...)` beside an insert in one statement: the
 * counter's row lock orders concurrent creates, ids commit in order (so a page read by id never
 * skips a committed row), and a refused insert rolls the increment back with it, which a sequence
 * would not (it leaves a gap). Select `last_id` from the CTE as the new row's id.
 */
export function nextId(db: QueryCreator<WithIdCounters>, counter: string) {
  return db
    .updateTable('id_counters')
    .set({ last_id: sql`last_id + 1` })
    .where('name', '=', counter)
    .returning('last_id');
}
