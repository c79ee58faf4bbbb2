import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { AUTH_REALM, AuthGuard } from './auth.guard';
import { authEnabled, AuthSettings } from './auth.settings';
import { RouteDeclarations } from './route-declarations';
import { TokenVerifier } from './token-verifier';

/**
 * Bearer-token authentication for a service (an OAuth 2.0 resource server), on when AUTH_ISSUER
 * is set. The route-declaration check runs either way, so that a route cannot be added without
 * saying who may call it, whether or not the deployment it is tested in has auth on.
 */
@Module({})
export class AuthModule {
  static forRoot(realm: string, settings: AuthSettings): DynamicModule {
    return {
      module: AuthModule,
      imports: [DiscoveryModule],
      providers: [
        { provide: AUTH_REALM, useValue: realm },
        // Off, no guard at all: nothing to run on every request.
        ...(authEnabled(settings)
          ? [
              { provide: TokenVerifier, useValue: new TokenVerifier(settings) },
              { provide: APP_GUARD, useClass: AuthGuard },
            ]
          : []),
        RouteDeclarations,
      ],
    };
  }
}
