import { DynamicModule, Module } from '@nestjs/common';
import { type DatabaseSettings, repositoryProvider } from '@app/storage';
import { UsersClientModule } from '../users-client/users-client.module';
import { InMemoryOrdersRepository } from './in-memory-orders.repository';
import { OrdersController } from './orders.controller';
import { OrdersService } from './orders.service';
import { ORDERS_REPOSITORY } from './orders.repository';
import { PostgresOrdersRepository } from './postgres-orders.repository';

@Module({})
export class OrdersModule {
  /** Orders in PostgreSQL when the app has a database, else in process memory. */
  static forRoot(settings: DatabaseSettings): DynamicModule {
    return {
      module: OrdersModule,
      imports: [UsersClientModule],
      controllers: [OrdersController],
      providers: [
        OrdersService,
        repositoryProvider(
          ORDERS_REPOSITORY,
          {
            postgres: PostgresOrdersRepository,
            memory: InMemoryOrdersRepository,
          },
          settings,
        ),
      ],
    };
  }
}
