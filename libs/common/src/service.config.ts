import { ASYMMETRIC_ALGORITHMS, AuthSettings } from '@app/auth';
import {
  IsIn,
  IsInt,
  IsNotEmpty,
  IsString,
  Matches,
  Max,
  Min,
  ValidateIf,
} from 'class-validator';
import { EnvInt } from './config';

export const LOG_LEVELS = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** What every service reads from its environment; each app's config extends it. */
const ALGORITHM = `(${ASYMMETRIC_ALGORITHMS.join('|')})`;

export class ServiceConfig implements AuthSettings {
  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  /** `production` logs JSON lines; anything else logs human-readable lines. */
  @IsString()
  NODE_ENV = 'development';

  /** After SIGTERM/SIGINT: how long readiness says 503 while requests are still served. */
  @EnvInt()
  @Max(300_000)
  @Min(0)
  @IsInt()
  SHUTDOWN_DRAIN_MS = 5000;

  /** After the drain: how long requests in flight may take before their connections are cut. */
  @EnvInt()
  @Max(300_000)
  @Min(0)
  @IsInt()
  SHUTDOWN_TIMEOUT_MS = 10_000;

  /** How long an Idempotency-Key and its response are remembered. */
  @EnvInt()
  @Max(7 * 24 * 3600 * 1000)
  @Min(1)
  @IsInt()
  IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;

  /** How many keys are remembered at most; the oldest go first. */
  @EnvInt()
  @Max(1_000_000)
  @Min(1)
  @IsInt()
  IDEMPOTENCY_MAX_KEYS = 10_000;

  /** Browser origins allowed to call the API (CORS), comma-separated; none when empty. */
  @Matches(/^$|^https?:\/\/[^\s,/]+(,https?:\/\/[^\s,/]+)*$/, {
    message:
      '$property must be a comma-separated list of origins like https://app.example.com',
  })
  CORS_ORIGINS = '';

  /** Requests per minute per client address; 0 turns rate limiting off. */
  @EnvInt()
  @Max(1_000_000)
  @Min(0)
  @IsInt()
  RATE_LIMIT_PER_MINUTE = 0;

  /** How long a replica may hold an Idempotency-Key in flight before another may take it over. */
  @EnvInt()
  @Max(3600 * 1000)
  @Min(1000)
  @IsInt()
  IDEMPOTENCY_LEASE_MS = 60_000;

  /** This service's own PostgreSQL database; empty keeps everything in process memory. */
  @Matches(/^$|^postgres(ql)?:\/\/\S+$/, {
    message:
      '$property must be empty or a URL like postgres://user:password@host:5432/database',
  })
  DATABASE_URL = '';

  /** Connections this process keeps to the database at most. */
  @EnvInt()
  @Max(1000)
  @Min(1)
  @IsInt()
  DATABASE_POOL_MAX = 10;

  /** How long a request waits for a free or new connection before it gets a 503. */
  @EnvInt()
  @Max(60_000)
  @Min(100)
  @IsInt()
  DATABASE_CONNECT_TIMEOUT_MS = 2000;

  /** The server cancels any statement running longer than this. */
  @EnvInt()
  @Max(600_000)
  @Min(100)
  @IsInt()
  DATABASE_STATEMENT_TIMEOUT_MS = 5000;

  /** Apply pending migrations at start (under a lock); `false` when a release step runs them. */
  @IsIn(['true', 'false'])
  DATABASE_MIGRATE_AT_START: 'true' | 'false' = 'true';

  /**
   * The OpenID provider whose access tokens this service accepts (its `iss`); empty leaves every
   * route open, as the seed was.
   */
  @Matches(/^$|^https?:\/\/\S+$/, {
    message:
      '$property must be empty or an issuer URL like https://id.example.com/realms/shop',
  })
  AUTH_ISSUER = '';

  /** The audience (`aud`) tokens for this service carry; required with AUTH_ISSUER. */
  @ValidateIf((config: ServiceConfig) => config.AUTH_ISSUER !== '')
  @IsNotEmpty({ message: '$property must be set when AUTH_ISSUER is set' })
  AUTH_AUDIENCE = '';

  /** The issuer's key set (JWKS); empty: read from its OpenID discovery document. */
  @Matches(/^$|^https?:\/\/\S+$/, {
    message: '$property must be empty or a URL',
  })
  AUTH_JWKS_URL = '';

  /** Accepted token signature algorithms, comma-separated; asymmetric ones only. */
  @Matches(new RegExp(`^${ALGORITHM}(,${ALGORITHM})*$`), {
    message: `$property must be a comma-separated list of ${ASYMMETRIC_ALGORITHMS.join(', ')}`,
  })
  AUTH_ALGORITHMS = 'RS256,PS256,ES256,EdDSA';

  /** Seconds of leeway on a token's `exp` and `nbf`, for clocks a little apart. */
  @EnvInt()
  @Max(300)
  @Min(0)
  @IsInt()
  AUTH_CLOCK_TOLERANCE_S = 30;

  /** After fetching the key set, how long before an unknown `kid` may fetch it again. */
  @EnvInt()
  @Max(3_600_000)
  @Min(0)
  @IsInt()
  AUTH_JWKS_COOLDOWN_MS = 30_000;
}
