import type { Migration } from 'kysely/migration';
import { migratedTestDatabase, queryTestDatabase } from '../stand-ins/database';

interface ColumnRow extends Record<string, unknown> {
  table_name: string;
  column_name: string;
  data_type: string;
  is_nullable: 'YES' | 'NO';
}

/**
 * Every table and column that `migrations` build on a fresh database, in the shape of a
 * `SchemaColumns` value, to compare with the schema type's: Kysely's own bookkeeping tables left out.
 */
export async function migratedSchema(
  migrations: Record<string, Migration>,
): Promise<
  Record<string, Record<string, { type: string; nullable: boolean }>>
> {
  const db = await migratedTestDatabase(migrations);
  try {
    const rows = await queryTestDatabase<ColumnRow>(
      db.url,
      `select table_name, column_name, data_type, is_nullable
         from information_schema.columns
        where table_schema = 'public' and table_name not like 'kysely_%'
        order by table_name, ordinal_position`,
    );
    const schema: Record<
      string,
      Record<string, { type: string; nullable: boolean }>
    > = {};
    for (const row of rows)
      (schema[row.table_name] ??= {})[row.column_name] = {
        type: row.data_type,
        nullable: row.is_nullable === 'YES',
      };
    return schema;
  } finally {
    await db.close();
  }
}
