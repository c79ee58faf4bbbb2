import { Module } from '@nestjs/common';
import { UsersClientModule } from '../users-client/users-client.module';
import { InMemoryOrdersRepository } from './in-memory-orders.repository';
import { OrdersController } from './orders.controller';
import { OrdersService } from './orders.service';
import { ORDERS_REPOSITORY } from './orders.tokens';

@Module({
  imports: [UsersClientModule],
  controllers: [OrdersController],
  providers: [
    OrdersService,
    { provide: ORDERS_REPOSITORY, useClass: InMemoryOrdersRepository },
  ],
})
export class OrdersModule {}
