import { HttpModule } from '@nestjs/axios';
import { Module } from '@nestjs/common';
import { OrdersConfig } from '../orders.config';
import { UsersConnections } from './users-connections';
import { UsersReadiness } from './users-readiness';
import { UsersClient } from './users.client';
import { UsersToken } from './users-token';

@Module({
  imports: [
    HttpModule.registerAsync({
      extraProviders: [UsersConnections],
      inject: [OrdersConfig, UsersConnections],
      useFactory: (config: OrdersConfig, connections: UsersConnections) => ({
        baseURL: config.USERS_SERVICE_URL,
        // Kept-alive connections to the users app, over undici (see UsersConnections).
        adapter: connections.adapter,
      }),
    }),
  ],
  providers: [UsersClient, UsersReadiness, UsersToken],
  exports: [UsersClient, UsersReadiness],
})
export class UsersClientModule {}
