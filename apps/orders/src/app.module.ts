import { DynamicModule, Module } from '@nestjs/common';
import { PlatformModule, READINESS_INDICATORS } from '@app/common';
import { OrdersConfig } from './orders.config';
import { ORDERS_MIGRATIONS } from './orders/migrations';
import { OrdersModule } from './orders/orders.module';
import { UsersClientModule } from './users-client/users-client.module';
import { UsersReadiness } from './users-client/users-readiness';

@Module({})
export class OrdersAppModule {
  /** The app with its config given, not read here: tests pass their own. */
  static forRoot(config: OrdersConfig): DynamicModule {
    return {
      module: OrdersAppModule,
      global: true,
      imports: [
        PlatformModule.forRoot(
          {
            name: 'orders',
            description:
              "Keeps orders. GET /orders/{id} fetches the order's user from the users service on every request; POST /orders checks that the user exists first.",
            migrations: ORDERS_MIGRATIONS,
          },
          config,
        ),
        UsersClientModule,
        OrdersModule.forRoot(config),
      ],
      providers: [
        { provide: OrdersConfig, useValue: config },
        { provide: READINESS_INDICATORS, useExisting: UsersReadiness },
      ],
      exports: [OrdersConfig, READINESS_INDICATORS],
    };
  }
}
