import { DynamicModule, Module } from '@nestjs/common';
import { PlatformModule, type ServiceDefinition } from '@app/platform';
import { OrdersConfig } from './orders.config';
import { ORDERS_MIGRATIONS } from './orders/migrations';
import { OrdersModule } from './orders/orders.module';

@Module({})
export class OrdersAppModule {
  /** The app with its config given, not read here: tests pass their own. */
  static forRoot(config: OrdersConfig): DynamicModule {
    return {
      module: OrdersAppModule,
      imports: [
        PlatformModule.forRoot(service, config),
        OrdersModule.forRoot(config),
      ],
    };
  }
}

/** The orders service, as main.ts runs it and the deployment checks read it. */
export const service: ServiceDefinition<OrdersConfig> = {
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
  module: (config) => OrdersAppModule.forRoot(config),
};
