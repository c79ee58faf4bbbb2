import { Kysely } from 'kysely';

// The seed's orders, inserted by a migration so that they are added once to an empty database and
// never again, whatever happens to them later.
export async function up(db: Kysely<any>): Promise<void> {
  await db
    .insertInto('orders')
    .values([
      { id: 1, user_id: 1, product: 'Laptop' },
      { id: 2, user_id: 2, product: 'Smartphone' },
    ])
    .execute();
  await db
    .insertInto('id_counters')
    .values({ name: 'orders', last_id: 2 })
    .execute();
}
