import {
  CanActivate,
  ExecutionContext,
  Inject,
  Injectable,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import { AuthError } from './errors';
import { setPrincipal } from './principal';
import { PUBLIC_ROUTE, REQUIRED_SCOPES } from './scopes.decorator';
import { TokenVerifier } from './token-verifier';

/** The realm in WWW-Authenticate: the service's name. */
export const AUTH_REALM = Symbol('AUTH_REALM');

/** RFC 6750 §2.1: `Bearer` and a token68; the scheme is case-insensitive. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * The one place that lets a request in, when authentication is on (AuthModule binds it only then): a verified bearer token with
 * every scope the route declares (`@RequireScopes`), or a route declared `@Public()`. A route that
 * declares neither never gets here (see RouteDeclarations), and is refused if it does.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(AUTH_REALM) private readonly realm: string,
    private readonly verifier: TokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets))
      return true;
    const required = this.reflector.getAllAndOverride<string[]>(
      REQUIRED_SCOPES,
      targets,
    ) ??
      // Undeclared: no token can carry what it needs.
      ['(undeclared)'];
    const request = context.switchToHttp().getRequest<IncomingMessage>();
    const header = request.headers.authorization;
    if (header === undefined || !/^Bearer\b/i.test(header))
      throw AuthError.tokenMissing(this.realm);
    const token = BEARER.exec(header)?.[1];
    if (!token) throw AuthError.invalidToken(this.realm);
    const principal = await this.verifier.verify(token, this.realm);
    setPrincipal(request, principal);
    if (!required.every((scope) => principal.scopes.has(scope)))
      throw AuthError.insufficientScope(this.realm, required.join(' '));
    return true;
  }
}
