/** What the auth lib reads from a service's config (see ServiceConfig). */
export interface AuthSettings {
  /** The identity provider's issuer URL; empty turns authentication off. */
  AUTH_ISSUER: string;
  /** The audience tokens for this service carry in `aud`. */
  AUTH_AUDIENCE: string;
  /** The issuer's key set; empty: read from its OpenID discovery document. */
  AUTH_JWKS_URL: string;
  /** The signature algorithms accepted, comma-separated; asymmetric ones only. */
  AUTH_ALGORITHMS: string;
  /** Leeway for `exp` and `nbf`, for clocks a little apart. */
  AUTH_CLOCK_TOLERANCE_S: number;
  /** After fetching the key set, how long before a token with an unknown `kid` may fetch it again. */
  AUTH_JWKS_COOLDOWN_MS: number;
}

/** Signature algorithms with a public key: never `none`, never a shared secret (HS*). */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

export function authEnabled(settings: AuthSettings): boolean {
  return settings.AUTH_ISSUER !== '';
}
