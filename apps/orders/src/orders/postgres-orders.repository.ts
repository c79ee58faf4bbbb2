import type { Page } from '@app/contracts';
import { Database, nextId } from '@app/storage';
import { Injectable } from '@nestjs/common';
import type { Selectable } from 'kysely';
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

/** Orders in this service's PostgreSQL database, shared by every replica. */
@Injectable()
export class PostgresOrdersRepository implements OrdersRepository {
  constructor(private readonly database: Database<OrdersDatabase>) {}

  async create(order: NewOrder): Promise<Order> {
    const row = await this.database.run((db) =>
      db
        .with('next_id', (db) => nextId(db, 'orders'))
        .insertInto('orders')
        .columns(['id', 'user_id', 'product'])
        .expression((eb) =>
          eb
            .selectFrom('next_id')
            .select((eb) => [
              'last_id',
              eb.val(order.userId).as('user_id'),
              eb.val(order.product).as('product'),
            ]),
        )
        .returning(['id', 'user_id', 'product'])
        .executeTakeFirstOrThrow(),
    );
    return toOrder(row);
  }

  async findById(id: number): Promise<Order | undefined> {
    const row = await this.database.run((db) =>
      db
        .selectFrom('orders')
        .select(['id', 'user_id', 'product'])
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
          .select(['id', 'user_id', 'product'])
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
