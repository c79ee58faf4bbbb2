import type { JWTPayload } from 'jose';

/** Who a verified token speaks for, as far as this service cares. */
export interface Principal {
  sub?: string;
  /** The client the token was issued to (`client_id`, or `azp`). */
  clientId?: string;
  scopes: ReadonlySet<string>;
}

const PRINCIPALS = new WeakMap<object, Principal>();

/** The principal the auth guard found on `request`; undefined with auth off or on open routes. */
export function principalOf(request: object): Principal | undefined {
  return PRINCIPALS.get(request);
}

export function setPrincipal(request: object, principal: Principal): void {
  PRINCIPALS.set(request, principal);
}

/** Scopes from `scope` (space-separated, RFC 8693) or `scp` (a list or a string, Entra ID, Okta). */
export function principalFrom(payload: JWTPayload): Principal {
  const raw = payload.scope ?? payload.scp;
  const scopes = Array.isArray(raw)
    ? raw.filter((s): s is string => typeof s === 'string')
    : typeof raw === 'string'
      ? raw.split(' ').filter(Boolean)
      : [];
  const clientId = payload.client_id ?? payload.azp;
  return {
    sub: payload.sub,
    clientId: typeof clientId === 'string' ? clientId : undefined,
    scopes: new Set(scopes),
  };
}
