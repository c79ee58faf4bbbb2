import { Module } from '@nestjs/common';
import { storeProvider, type Stores } from '@app/storage';
import { UsersClientModule } from '../users-client/users-client.module';
import { InMemoryOrdersRepository } from './in-memory-orders.repository';
import { OrdersController } from './orders.controller';
import { OrdersService } from './orders.service';
import { ORDERS_REPOSITORY, type OrdersRepository } from './orders.repository';
import type { OrdersDatabase } from './orders.schema';
import { PostgresOrdersRepository } from './postgres-orders.repository';

/** Where orders are kept: the app binds one, the repository spec runs the contract on both. */
export const ORDERS_STORES: Stores<OrdersRepository, OrdersDatabase> = {
  postgres: (database) => new PostgresOrdersRepository(database),
  memory: () => new InMemoryOrdersRepository(),
};

/** Orders in PostgreSQL when the app has a database, else in process memory. */
@Module({
  imports: [UsersClientModule],
  controllers: [OrdersController],
  providers: [OrdersService, storeProvider(ORDERS_REPOSITORY, ORDERS_STORES)],
})
export class OrdersModule {}
