export interface Order {
  id: number;
  userId: number;
  product: string;
}

export type NewOrder = Omit<Order, 'id'>;

export interface Page<T> {
  items: T[];
  total: number;
}

export interface OrderListQuery {
  userId?: number;
  limit: number;
  offset: number;
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
