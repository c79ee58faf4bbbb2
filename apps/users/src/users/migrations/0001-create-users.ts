import { createRecordsTable } from '@app/storage';
import { Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await createRecordsTable(db, 'users', (table) =>
    table
      .addColumn('name', 'text', (column) => column.notNull())
      .addColumn('email', 'text', (column) => column.notNull()),
  );
  // Unique ignoring case, enforced by the server, so replicas cannot both accept one email.
  await sql`create unique index users_email_lower_key on users (lower(email))`.execute(
    db,
  );
}
