import {
  sql,
  type ColumnType,
  type CreateTableBuilder,
  type Kysely,
  type QueryCreator,
} from 'kysely';
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
 * Takes the next `count` ids of `counter`, for a `with next_ids as (...)` beside an insert in one
 * statement; the new rows' ids are `last_id - count + 1` to `last_id`. The counter's row lock
 * orders concurrent creates, ids commit in order (so a page read by id never skips a committed
 * row), and a refused insert rolls the increment back with it, which a sequence would not (it
 * leaves a gap). `GroupedInserts` writes many creates at once, so that they do not each wait for
 * the commit of the one before.
 */
export function nextIds(
  db: QueryCreator<WithIdCounters>,
  counter: string,
  count: number,
) {
  return db
    .updateTable('id_counters')
    .set({ last_id: sql`last_id + ${count}` })
    .where('name', '=', counter)
    .returning('last_id');
}

/**
 * Creates a table of records whose ids come from a counter (`nextIds`): `id bigint primary key`,
 * then the columns `addColumns` adds; and, beside it, the counters' table (the service's seed
 * migration then inserts its counter row). A counter row updated in the inserting statement means
 * a failed insert rolls the increment back, so unlike a sequence it never leaves a gap. Released
 * migrations call this: it never changes; a change to either table is a new migration.
 */
export async function createRecordsTable(
  db: Kysely<unknown>,
  table: string,
  addColumns: (
    builder: CreateTableBuilder<string, 'id'>,
  ) => CreateTableBuilder<string, string>,
): Promise<void> {
  await addColumns(
    db.schema
      .createTable(table)
      .addColumn('id', 'bigint', (column) => column.primaryKey()),
  ).execute();
  await db.schema
    .createTable('id_counters')
    .addColumn('name', 'text', (column) => column.primaryKey())
    .addColumn('last_id', 'bigint', (column) => column.notNull())
    .execute();
}
