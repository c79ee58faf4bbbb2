import type { Page, PageRequest } from '@app/contracts';

export interface Order {
  id: number;
  userId: number;
  product: string;
}

export type NewOrder = Omit<Order, 'id'>;

export interface OrderListQuery extends PageRequest {
  userId?: number;
}

/**
 * Where orders live. Ids are handed out by the store: positive, increasing, never reused, and only
 * consumed by an order that was stored.
 */
export interface OrdersRepository {
  create(order: NewOrder): Promise<Order>;
  findById(id: number): Promise<Order | undefined>;
  /** Orders in id order, optionally only one user's. */
  list(query: OrderListQuery): Promise<Page<Order>>;
}

/** The injection token the orders store is bound to (see OrdersModule). */
export const ORDERS_REPOSITORY = Symbol('ORDERS_REPOSITORY');
