import { Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'bigint', (column) => column.primaryKey())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('email', 'text', (column) => column.notNull())
    .execute();
  // Unique ignoring case, enforced by the server, so replicas cannot both accept one email.
  await sql`create unique index users_email_lower_key on users (lower(email))`.execute(
    db,
  );
  // Ids come from a counter row updated in the inserting statement: a failed insert rolls the
  // increment back, so unlike a sequence it never leaves a gap.
  await db.schema
    .createTable('id_counters')
    .addColumn('name', 'text', (column) => column.primaryKey())
    .addColumn('last_id', 'bigint', (column) => column.notNull())
    .execute();
}
