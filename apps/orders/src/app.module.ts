import { defineService } from '@app/platform';
import { OrdersConfig } from './orders.config';
import { ORDERS_MIGRATIONS } from './orders/migrations';
import { OrdersModule } from './orders/orders.module';

/**
 * The orders service, as main.ts runs it, tests boot it (`service.module(config)`, with their
 * own config) and the deployment checks read it.
 */
export const service = defineService<OrdersConfig>({
  name: 'orders',
  description:
    "Keeps orders. GET /orders/{id} fetches the order's user from the users service on every request; POST /orders checks that the user exists first.",
  apiTags: {
    orders:
      'Orders: read one with its user (from the users service), create, list.',
  },
  config: OrdersConfig,
  port: 'ORDERS_PORT',
  migrations: ORDERS_MIGRATIONS,
  features: [OrdersModule],
});
