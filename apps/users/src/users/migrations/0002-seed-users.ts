import { Kysely } from 'kysely';

// The seed's users, inserted by a migration so that they are added once to an empty database and
// never again, whatever happens to them later.
export async function up(db: Kysely<any>): Promise<void> {
  await db
    .insertInto('users')
    .values([
      { id: 1, name: 'Alice', email: 'alice@example.com' },
      { id: 2, name: 'Bob', email: 'bob@example.com' },
    ])
    .execute();
  await db
    .insertInto('id_counters')
    .values({ name: 'users', last_id: 2 })
    .execute();
}
