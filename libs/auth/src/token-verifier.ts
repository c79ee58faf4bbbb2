import { Logger } from '@nestjs/common';
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import { AuthError } from './errors';
import { AuthSettings, listSetting } from './auth.settings';
import { Principal, principalFrom } from './principal';

type KeySet = ReturnType<typeof createRemoteJWKSet>;

/** What a token itself got wrong: a 401. Anything else (keys not fetched) is not the client's fault. */
const TOKEN_ERRORS = [
  errors.JWTExpired,
  errors.JWTClaimValidationFailed,
  errors.JWTInvalid,
  errors.JWSInvalid,
  errors.JWSSignatureVerificationFailed,
  errors.JOSEAlgNotAllowed,
  errors.JOSENotSupported,
  errors.JWKSNoMatchingKey,
  errors.JWKSMultipleMatchingKeys,
];

const FETCH_TIMEOUT_MS = 5000;

/**
 * Verifies access tokens with jose: the signature against the issuer's key set (cached by jose; a
 * token with an unknown `kid` refetches it, at most once per cooldown, so keys rotate without a
 * restart), `iss`, `aud`, `exp` and `nbf` with a leeway, and an allow-list of asymmetric
 * algorithms, so `none` and an HMAC keyed with the public key are refused.
 */
export class TokenVerifier {
  private readonly logger = new Logger('Auth');
  private keySet?: Promise<KeySet>;
  private readonly algorithms: string[];
  private readonly scopeClaims: string[];

  constructor(private readonly settings: AuthSettings) {
    this.algorithms = listSetting(settings.AUTH_ALGORITHMS);
    this.scopeClaims = listSetting(settings.AUTH_SCOPE_CLAIMS);
  }

  /** @throws AuthError: invalid token (401), or keys unavailable (503). */
  async verify(token: string, realm: string): Promise<Principal> {
    const keySet = await this.keys();
    try {
      const { payload } = await jwtVerify(token, keySet, {
        issuer: this.settings.AUTH_ISSUER,
        audience: this.settings.AUTH_AUDIENCE,
        algorithms: this.algorithms,
        clockTolerance: this.settings.AUTH_CLOCK_TOLERANCE_S,
      });
      return principalFrom(payload, this.scopeClaims);
    } catch (error) {
      if (TOKEN_ERRORS.some((type) => error instanceof type))
        throw AuthError.invalidToken(realm);
      this.logger.warn(`Token not verified: ${String(error)}`);
      throw AuthError.keysUnavailable();
    }
  }

  /** The key set, its URL found once through discovery when not configured; retried after a failure. */
  private keys(): Promise<KeySet> {
    this.keySet ??= this.jwksUrl().then(
      (url) =>
        createRemoteJWKSet(url, {
          cooldownDuration: this.settings.AUTH_JWKS_COOLDOWN_MS,
          timeoutDuration: FETCH_TIMEOUT_MS,
        }),
      (error: unknown) => {
        this.keySet = undefined;
        this.logger.warn(`OpenID discovery failed: ${String(error)}`);
        throw AuthError.keysUnavailable();
      },
    );
    return this.keySet;
  }

  private async jwksUrl(): Promise<URL> {
    if (this.settings.AUTH_JWKS_URL)
      return new URL(this.settings.AUTH_JWKS_URL);
    const issuer = this.settings.AUTH_ISSUER;
    const discovery = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const response = await fetch(discovery, {
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    if (!response.ok)
      throw new Error(`${discovery} answered ${response.status}`);
    const document = (await response.json()) as {
      issuer?: string;
      jwks_uri?: string;
    };
    // OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for.
    if (document.issuer !== issuer)
      throw new Error(
        `${discovery} names the issuer ${document.issuer}, not ${issuer}`,
      );
    if (!document.jwks_uri) throw new Error(`${discovery} has no jwks_uri`);
    return new URL(document.jwks_uri);
  }
}
