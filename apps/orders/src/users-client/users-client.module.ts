import { HttpModule } from '@nestjs/axios';
import { Module } from '@nestjs/common';
import { AccessTokenService } from './access-token.service';
import { UsersClientSettings } from './users-client.settings';
import { UsersConnectionPool } from './users-connection.pool';
import { UsersReadiness } from './users-readiness.indicator';
import { UsersCache } from './users.cache';
import { UsersClient } from './users.client';

/** The connections to users with the copies in front of them: one of each per app. */
@Module({
  providers: [UsersCache, UsersConnectionPool],
  exports: [UsersCache, UsersConnectionPool],
})
class UsersConnectionsModule {}

/**
 * The door to the users service: `UsersClient`, its connections, copies and token. Its settings
 * come from the app's config (the platform provides every settings class the config is composed
 * of); its readiness check joins the app's through `@ReadinessCheck()`.
 */
@Module({
  imports: [
    UsersConnectionsModule,
    HttpModule.registerAsync({
      imports: [UsersConnectionsModule],
      inject: [UsersClientSettings, UsersConnectionPool],
      useFactory: (
        settings: UsersClientSettings,
        connections: UsersConnectionPool,
      ) => ({
        baseURL: settings.USERS_SERVICE_URL,
        // Kept-alive connections to the users app, over undici (see UsersConnectionPool).
        adapter: connections.adapter,
      }),
    }),
  ],
  providers: [UsersClient, UsersReadiness, AccessTokenService],
  exports: [UsersClient],
})
export class UsersClientModule {}
