import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';

export const REQUIRED_SCOPES = 'auth:required-scopes';
export const PUBLIC_ROUTE = 'auth:public';
/** Where the document lists a route's scopes; see withSecurity. */
export const SCOPES_EXTENSION = 'x-required-scopes';

/**
 * The scopes a token must carry for this route (all of them), when authentication is on. Every
 * route declares this or `@Public()`: the app refuses to start with one that declares neither.
 */
export const RequireScopes = (...scopes: string[]) =>
  applyDecorators(
    SetMetadata(REQUIRED_SCOPES, scopes),
    ApiExtension(SCOPES_EXTENSION, scopes),
  );

/** Open to anyone, with authentication on too: probes, metrics. */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
