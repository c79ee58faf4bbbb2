import { Injectable } from '@nestjs/common';
import {
  NewOrder,
  Order,
  OrderListQuery,
  OrdersRepository,
  Page,
} from './orders.repository';

const SEED_ORDERS: NewOrder[] = [
  { userId: 1, product: 'Laptop' },
  { userId: 2, product: 'Smartphone' },
];

/** The seed's dictionary: per process, gone on restart. */
@Injectable()
export class InMemoryOrdersRepository implements OrdersRepository {
  private readonly orders = new Map<number, Order>();
  private lastId = 0;

  constructor() {
    for (const order of SEED_ORDERS) this.insert(order);
  }

  async create(order: NewOrder): Promise<Order> {
    return this.insert(order);
  }

  async findById(id: number): Promise<Order | undefined> {
    const order = this.orders.get(id);
    return order && { ...order };
  }

  async list({ userId, limit, offset }: OrderListQuery): Promise<Page<Order>> {
    // A Map iterates in insertion order, which is id order here.
    const matching = [...this.orders.values()].filter(
      (order) => userId === undefined || order.userId === userId,
    );
    return {
      items: matching
        .slice(offset, offset + limit)
        .map((order) => ({ ...order })),
      total: matching.length,
    };
  }

  private insert(order: NewOrder): Order {
    const stored = { id: ++this.lastId, ...order };
    this.orders.set(stored.id, stored);
    return { ...stored };
  }
}
