import type { Page } from '@app/contracts';
import { Database, GroupedInserts, nextIds } from '@app/storage';
import { Injectable } from '@nestjs/common';
import { Kysely, sql, type Selectable } from 'kysely';
import type { OrdersDatabase, OrdersTable } from './orders.schema';
import {
  NewOrder,
  Order,
  OrderListQuery,
  OrdersRepository,
} from './orders.repository';

const toOrder = (row: Selectable<OrdersTable>): Order => ({
  id: Number(row.id),
  userId: Number(row.user_id),
  product: row.product,
});

const COLUMNS = ['id', 'user_id', 'product'] as const;

/**
 * Writes `orders` in one statement, with ids from the counter in their order (one each,
 * gapless): what `GroupedInserts` writes a group of concurrent creates with.
 */
async function insertOrders(
  db: Kysely<OrdersDatabase>,
  orders: NewOrder[],
): Promise<Selectable<OrdersTable>[]> {
  const rows = await db
    .with(
      'input',
      () =>
        sql<{
          user_id: string;
          product: string;
          n: string;
        }>`(select * from unnest(
          ${orders.map((order) => order.userId)}::bigint[],
          ${orders.map((order) => order.product)}::text[]
        ) with ordinality as input(user_id, product, n))`,
    )
    .with('next_ids', (db) => nextIds(db, 'orders', orders.length))
    .insertInto('orders')
    .columns(COLUMNS)
    .expression((eb) =>
      eb
        .selectFrom(['input', 'next_ids'])
        .select([
          sql<string>`next_ids.last_id - ${orders.length} + input.n`.as('id'),
          'input.user_id',
          'input.product',
        ]),
    )
    .returning(COLUMNS)
    .execute();
  // Ids follow the order of the input: sorted by id, the rows are the orders' in order.
  return rows.sort((a, b) => Number(a.id) - Number(b.id));
}

/** Orders in this service's PostgreSQL database, shared by every replica. */
@Injectable()
export class PostgresOrdersRepository implements OrdersRepository {
  private readonly creates: GroupedInserts<
    OrdersDatabase,
    NewOrder,
    Selectable<OrdersTable>
  >;

  constructor(private readonly database: Database<OrdersDatabase>) {
    this.creates = new GroupedInserts(database, insertOrders);
  }

  async create(order: NewOrder): Promise<Order> {
    return toOrder(
      await this.creates.add({ userId: order.userId, product: order.product }),
    );
  }

  async findById(id: number): Promise<Order | undefined> {
    const row = await this.database.run((db) =>
      db
        .selectFrom('orders')
        .select(COLUMNS)
        .where('id', '=', String(id))
        .executeTakeFirst(),
    );
    return row && toOrder(row);
  }

  async list({ userId, limit, offset }: OrderListQuery): Promise<Page<Order>> {
    const [rows, count] = await this.database.run((db) => {
      let matching = db.selectFrom('orders');
      if (userId !== undefined)
        matching = matching.where('user_id', '=', String(userId));
      return Promise.all([
        matching
          .select(COLUMNS)
          .orderBy('id')
          .limit(limit)
          .offset(offset)
          .execute(),
        matching
          .select((eb) => eb.fn.countAll<string>().as('total'))
          .executeTakeFirstOrThrow(),
      ]);
    });
    return { items: rows.map(toOrder), total: Number(count.total) };
  }
}
