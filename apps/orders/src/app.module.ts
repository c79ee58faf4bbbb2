import { DynamicModule, Module } from '@nestjs/common';
import { OrdersConfig } from './orders.config';
import { OrdersModule } from './orders/orders.module';

@Module({})
export class OrdersAppModule {
  /** The app with its config given, not read here: tests pass their own. */
  static forRoot(config: OrdersConfig): DynamicModule {
    return {
      module: OrdersAppModule,
      global: true,
      imports: [OrdersModule],
      providers: [{ provide: OrdersConfig, useValue: config }],
      exports: [OrdersConfig],
    };
  }
}
