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

/**
 * Who `payload` speaks for. Its scopes come from the first of `scopeClaims` it carries (AUTH_SCOPE_CLAIMS),
 * a space-separated string (`scope`, RFC 9068) or a list (`scp` of Entra ID and Okta, `roles`). Only
 * the first: an Entra ID token on behalf of a user carries the scopes its client was granted in
 * `scp`, and the user's own roles in `roles`, which must not widen what that client may do.
 */
export function principalFrom(
  payload: JWTPayload,
  scopeClaims: readonly string[],
): Principal {
  const claim = scopeClaims.find(
    (name) => payload[name] !== undefined && payload[name] !== null,
  );
  const raw = claim === undefined ? undefined : payload[claim];
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
