import { EnvInt, NotAbove } from '@app/config';
import { Injectable } from '@nestjs/common';
import {
  IsInt,
  IsNotEmpty,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  ValidateIf,
} from 'class-validator';

/** Orders' own identity towards users: all three of these, or none. */
const SERVICE_IDENTITY = [
  'USERS_SERVICE_TOKEN_URL',
  'USERS_SERVICE_CLIENT_ID',
  'USERS_SERVICE_CLIENT_SECRET',
] as const;

const identityStarted = (config: UsersClientSettings) =>
  SERVICE_IDENTITY.some((name) => config[name] !== '');

/** Required once any of the three is set, naming itself when it is missing. */
const PartOfServiceIdentity = () => (target: object, property: string) => {
  ValidateIf(identityStarted)(target, property);
  IsNotEmpty({
    message: `$property must be set: ${SERVICE_IDENTITY.join(', ')} go together`,
  })(target, property);
};

/** How orders reaches the users service, from its environment; see docs/api.md. */
export class UsersClientSettings {
  /** The users service's base URL (http or https); its path, if any, prefixes every route. */
  @IsUrl({
    protocols: ['http', 'https'],
    require_protocol: true,
    require_tld: false,
  })
  USERS_SERVICE_URL = 'http://localhost:5001';

  /** The deadline for a whole call to users, retries and backoff included. */
  @EnvInt()
  @Max(60_000)
  @Min(1)
  @IsInt()
  USERS_SERVICE_TIMEOUT_MS = 2000;

  /** The deadline for one attempt within a call. */
  @EnvInt()
  @NotAbove('USERS_SERVICE_TIMEOUT_MS')
  @Min(1)
  @IsInt()
  USERS_SERVICE_ATTEMPT_TIMEOUT_MS = 1000;

  /** Retries of a failed GET, on connection errors, timeouts and 502/503/504 only. */
  @EnvInt()
  @Max(2)
  @Min(0)
  @IsInt()
  USERS_SERVICE_RETRIES = 2;

  /** The first backoff before a retry; it doubles each time, with full jitter. */
  @EnvInt()
  @Max(10_000)
  @Min(0)
  @IsInt()
  USERS_SERVICE_RETRY_DELAY_MS = 100;

  /**
   * The retry budget: each orders process retries at most this percent of its calls to users in
   * the last 10 s, plus 10, so a lone failure is still retried; a call refused a retry fails as
   * its attempt did. 0 leaves the 10; to never retry, set USERS_SERVICE_RETRIES=0.
   */
  @EnvInt()
  @Max(100)
  @Min(0)
  @IsInt()
  USERS_SERVICE_RETRY_BUDGET_PERCENT = 20;

  /** Consecutive failed attempts that open the circuit. */
  @EnvInt()
  @Max(1000)
  @Min(1)
  @IsInt()
  USERS_SERVICE_BREAKER_THRESHOLD = 5;

  /** How long an open circuit waits before letting one probe through. */
  @EnvInt()
  @Max(600_000)
  @Min(1)
  @IsInt()
  USERS_SERVICE_BREAKER_COOLDOWN_MS = 10_000;

  /** Calls to users in flight at once; more are refused with 503 at once. */
  @EnvInt()
  @Max(10_000)
  @Min(1)
  @IsInt()
  USERS_SERVICE_MAX_CONCURRENCY = 50;

  /**
   * Copies of users kept to revalidate (If-None-Match) and to fall back on, at most this many,
   * the least recently used forgotten first, at most 16 kB each; 0 keeps none.
   */
  @EnvInt()
  @Max(1_000_000)
  @Min(0)
  @IsInt()
  USERS_CACHE_MAX_ENTRIES = 10_000;

  /**
   * When a call to users fails, GET /orders/:id may show the last copy users confirmed, if it did
   * so at most this many seconds ago; 0 never shows a copy users did not just confirm.
   */
  @EnvInt()
  @Max(86_400)
  @Min(0)
  @IsInt()
  USERS_STALE_IF_ERROR_S = 60;

  /**
   * The identity provider's token endpoint, where orders gets its own access token for users
   * (client credentials grant); empty: calls to users carry no token.
   */
  @Matches(/^$|^https?:\/\/\S+$/, { message: '$property must be a URL' })
  @PartOfServiceIdentity()
  USERS_SERVICE_TOKEN_URL = '';

  /** Orders' client id at the identity provider; the three go together. */
  @PartOfServiceIdentity()
  USERS_SERVICE_CLIENT_ID = '';

  /** Orders' client secret; from a secret store, never in an image. */
  @PartOfServiceIdentity()
  USERS_SERVICE_CLIENT_SECRET = '';

  /** Sent as `audience` in the token request, for providers that need it (Auth0); else empty. */
  @IsString()
  USERS_SERVICE_TOKEN_AUDIENCE = '';

  /**
   * Sent as `resource` in the token request (RFC 8707), for providers that issue a token per
   * resource; else empty. RFC 8707 §2 wants an absolute URI without a fragment.
   */
  @Matches(/^$|^[A-Za-z][A-Za-z0-9+.-]*:[^\s#]+$/, {
    message:
      '$property must be empty or an absolute URI without a fragment, like https://users.example.com',
  })
  USERS_SERVICE_TOKEN_RESOURCE = '';
}

/**
 * Where the users service is, read once from USERS_SERVICE_URL: the origin orders connects to,
 * and the paths of what it asks for there, under the URL's own path (often none).
 */
@Injectable()
export class UsersEndpoint {
  readonly origin: string;
  private readonly prefix: string;

  constructor(settings: UsersClientSettings) {
    const base = new URL(settings.USERS_SERVICE_URL);
    this.origin = base.origin;
    this.prefix = base.pathname.replace(/\/$/, '');
  }

  /** A user: what orders asks for, and what it keeps copies of. */
  userPath(id: number): string {
    return `${this.prefix}/users/${id}`;
  }

  /** Whether a request's path is a user's (and nothing under it). */
  isUserPath(path: string): boolean {
    return (
      path.startsWith(this.prefix) &&
      /^\/users\/\d+$/.test(path.slice(this.prefix.length))
    );
  }

  /** The users service's liveness route, which orders' readiness asks. */
  get livenessPath(): string {
    return `${this.prefix}/health/live`;
  }
}
