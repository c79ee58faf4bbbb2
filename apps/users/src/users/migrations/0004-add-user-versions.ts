import { Kysely } from 'kysely';

// Every change of a user increments its version: conditional updates compare it (If-Match), and
// each version has its own entity tag. Existing users start at 1.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('version', 'integer', (column) => column.notNull().defaultTo(1))
    .execute();
}
