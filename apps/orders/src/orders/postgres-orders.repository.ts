import { Injectable } from '@nestjs/common';
import { Database } from '@app/database';
import { sql } from 'kysely';
import {
  NewOrder,
  Order,
  OrderListQuery,
  OrdersRepository,
  Page,
} from './orders.repository';

interface OrderRow {
  id: string;
  user_id: string;
  product: string;
}

// bigint comes back as a string; ids stay below 2^53 (the API refuses larger ones).
const toOrder = (row: OrderRow): Order => ({
  id: Number(row.id),
  userId: Number(row.user_id),
  product: row.product,
});

/** Orders in this service's PostgreSQL database, shared by every replica. */
@Injectable()
export class PostgresOrdersRepository implements OrdersRepository {
  constructor(private readonly database: Database) {}

  async create(order: NewOrder): Promise<Order> {
    // One statement: the counter's row lock orders concurrent creates, and a failed insert
    // rolls the increment back with it.
    const { rows } = await this.database.run((db) =>
      sql<OrderRow>`
        with next as (
          update id_counters set last_id = last_id + 1
          where name = 'orders' returning last_id
        )
        insert into orders (id, user_id, product)
        select last_id, ${order.userId}, ${order.product} from next
        returning id, user_id, product`.execute(db),
    );
    return toOrder(rows[0]);
  }

  async findById(id: number): Promise<Order | undefined> {
    const row = await this.database.run((db) =>
      db
        .selectFrom('orders')
        .select(['id', 'user_id', 'product'])
        .where('id', '=', id)
        .executeTakeFirst(),
    );
    return row && toOrder(row as OrderRow);
  }

  async list({ userId, limit, offset }: OrderListQuery): Promise<Page<Order>> {
    // Ids are handed out in commit order (the counter row is held until commit), so a page read
    // by id never skips a row committed before it.
    const [rows, count] = await this.database.run((db) => {
      let matching = db.selectFrom('orders');
      if (userId !== undefined)
        matching = matching.where('user_id', '=', userId);
      return Promise.all([
        matching
          .select(['id', 'user_id', 'product'])
          .orderBy('id')
          .limit(limit)
          .offset(offset)
          .execute(),
        matching
          .select(sql<string>`count(*)`.as('total'))
          .executeTakeFirstOrThrow(),
      ]);
    });
    return {
      items: rows.map((row) => toOrder(row as OrderRow)),
      total: Number(count.total),
    };
  }
}
