import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { AuthGuard } from './auth.guard';
import { authEnabled, AuthSettings } from './auth.settings';
import { AUTH_REALM } from './auth.tokens';
import { RouteDeclarations } from './route-declarations';
import { TokenVerifier } from './token-verifier';

/**
 * Bearer-token authentication for a service (an OAuth 2.0 resource server), on when AUTH_ISSUER
 * is set. The guard and the route-declaration check are there either way, so that what is open
 * with auth off is exactly what is declared open.
 */
@Module({})
export class AuthModule {
  static forRoot(realm: string, settings: AuthSettings): DynamicModule {
    return {
      module: AuthModule,
      imports: [DiscoveryModule],
      providers: [
        { provide: AUTH_REALM, useValue: realm },
        ...(authEnabled(settings)
          ? [{ provide: TokenVerifier, useValue: new TokenVerifier(settings) }]
          : []),
        { provide: APP_GUARD, useClass: AuthGuard },
        RouteDeclarations,
      ],
    };
  }
}
