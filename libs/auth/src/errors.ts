/**
 * A request the auth guard refuses, with its RFC 6750 answer. The detail never says which check a
 * token failed nor echoes it: that would help whoever forges one.
 */
export class AuthError extends Error {
  private constructor(
    readonly status: 401 | 403 | 503,
    readonly detail: string,
    readonly headers: Record<string, string>,
  ) {
    super(detail);
    this.name = 'AuthError';
  }

  /** No bearer token at all: the challenge, with no error code (RFC 6750 §3.1). */
  static tokenMissing(realm: string): AuthError {
    return new AuthError(401, 'A bearer access token is required', {
      'WWW-Authenticate': `Bearer realm="${realm}"`,
    });
  }

  static invalidToken(realm: string): AuthError {
    return new AuthError(401, 'The access token is invalid or expired', {
      'WWW-Authenticate': `Bearer realm="${realm}", error="invalid_token", error_description="The access token is invalid or expired"`,
    });
  }

  static insufficientScope(realm: string, scope: string): AuthError {
    return new AuthError(
      403,
      `The access token lacks the scope this route requires: ${scope}`,
      {
        'WWW-Authenticate': `Bearer realm="${realm}", error="insufficient_scope", scope="${scope}"`,
      },
    );
  }

  /** The identity provider's keys could not be had: the token may be fine, so not a 401. */
  static keysUnavailable(): AuthError {
    return new AuthError(
      503,
      "The identity provider's signing keys are unavailable; try again shortly",
      { 'Retry-After': '5' },
    );
  }
}
