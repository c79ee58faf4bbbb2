import type { Page } from '@app/contracts';
import { InMemoryTable } from '@app/storage';
import { Injectable } from '@nestjs/common';
import {
  NewOrder,
  Order,
  OrderListQuery,
  OrdersRepository,
} from './orders.repository';

const SEED_ORDERS: NewOrder[] = [
  { userId: 1, product: 'Laptop' },
  { userId: 2, product: 'Smartphone' },
];

/** The seed's dictionary: per process, gone on restart. */
@Injectable()
export class InMemoryOrdersRepository implements OrdersRepository {
  private readonly orders = new InMemoryTable<NewOrder>(SEED_ORDERS);

  async create(order: NewOrder): Promise<Order> {
    return this.orders.insert(order);
  }

  async findById(id: number): Promise<Order | undefined> {
    return this.orders.get(id);
  }

  async list({ userId, ...page }: OrderListQuery): Promise<Page<Order>> {
    return this.orders.page(
      page,
      userId === undefined ? undefined : (order) => order.userId === userId,
    );
  }
}
