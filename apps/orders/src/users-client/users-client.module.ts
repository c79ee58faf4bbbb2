import { HttpModule } from '@nestjs/axios';
import { Module } from '@nestjs/common';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { OrdersConfig } from '../orders.config';
import { UsersReadiness } from './users-readiness';
import { UsersClient } from './users.client';

@Module({
  imports: [
    HttpModule.registerAsync({
      inject: [OrdersConfig],
      useFactory: (config: OrdersConfig) => ({
        baseURL: config.USERS_SERVICE_URL,
        // Reuse connections to the users app instead of a handshake per order.
        httpAgent: new HttpAgent({ keepAlive: true }),
        httpsAgent: new HttpsAgent({ keepAlive: true }),
      }),
    }),
  ],
  providers: [UsersClient, UsersReadiness],
  exports: [UsersClient, UsersReadiness],
})
export class UsersClientModule {}
