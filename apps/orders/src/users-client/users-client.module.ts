import { HttpModule } from '@nestjs/axios';
import { Module } from '@nestjs/common';
import { AccessTokenService } from './access-token.service';
import { UsersCallPolicy } from './users-call.policy';
import { UsersEndpoint } from './users-client.settings';
import { UsersReadiness } from './users-readiness.indicator';
import { UsersCache } from './users.cache';
import { UsersCall } from './users.call';
import { UsersClient } from './users.client';
import { UsersProblems } from './users.problems';
import { UsersTransport } from './users.transport';

/** The way to users, below HttpService: copies, token and connections (see UsersTransport). */
@Module({
  providers: [UsersEndpoint, UsersCache, AccessTokenService, UsersTransport],
  exports: [UsersEndpoint, UsersCache, AccessTokenService, UsersTransport],
})
class UsersTransportModule {}

/**
 * The door to the users service: `UsersClient`, and what a call to users goes through, in order:
 * UsersCall (the token, the resilience policy, HttpService), UsersTransport (orders' copies of
 * users, the token on the wire, the connections), and back through UsersProblems. Its settings
 * come from the app's config (the platform provides every settings class the config is composed
 * of); its readiness check joins the app's through `@ReadinessCheck()`.
 */
@Module({
  imports: [
    UsersTransportModule,
    HttpModule.registerAsync({
      imports: [UsersTransportModule],
      inject: [UsersTransport],
      useFactory: (transport: UsersTransport) => ({
        adapter: transport.adapter,
      }),
    }),
  ],
  providers: [
    UsersClient,
    UsersCall,
    UsersCallPolicy,
    UsersProblems,
    UsersReadiness,
  ],
  exports: [UsersClient],
})
export class UsersClientModule {}
