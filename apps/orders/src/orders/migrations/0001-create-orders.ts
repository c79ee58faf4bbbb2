import { createRecordsTable } from '@app/storage';
import { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // No foreign key to users: they live in the users service's own database.
  await createRecordsTable(db, 'orders', (table) =>
    table
      .addColumn('user_id', 'bigint', (column) => column.notNull())
      .addColumn('product', 'text', (column) => column.notNull()),
  );
  // GET /orders?user_id= pages one user's orders in id order.
  await db.schema
    .createIndex('orders_user_id_id_idx')
    .on('orders')
    .columns(['user_id', 'id'])
    .execute();
}
