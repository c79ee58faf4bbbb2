import { EnvInt } from '@app/config';
import {
  IsIn,
  IsInt,
  IsString,
  Matches,
  Max,
  Min,
  ValidateBy,
} from 'class-validator';
import { isIP } from 'node:net';

const LOG_LEVELS = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Express' names for address ranges in `trust proxy` (proxy-addr's). */
const TRUST_PROXY_RANGES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * A value Express' `trust proxy` takes and that means something: a hop count (1 to 10, as a
 * number: as a string Express would read `2` as the address 0.0.0.2), or a comma-separated list
 * of IP addresses, CIDR ranges and named ranges. Stricter than Express, which would also take
 * `true` (believe any X-Forwarded-For, so any client could pick its address) and loose forms
 * such as `0x7f000001` or `0177.0.0.1` for 127.0.0.1.
 */
function isTrustProxy(value: unknown): boolean {
  if (value === '') return true;
  if (typeof value === 'number')
    return Number.isInteger(value) && value >= 1 && value <= 10;
  return (
    typeof value === 'string' &&
    value.split(',').every((entry) => {
      const [address, prefix, ...rest] = entry.trim().split('/');
      if (rest.length > 0) return false;
      if (prefix === undefined)
        return TRUST_PROXY_RANGES.includes(address) || isIP(address) !== 0;
      const bits = isIP(address) === 4 ? 32 : isIP(address) === 6 ? 128 : 0;
      return /^\d{1,3}$/.test(prefix) && +prefix >= 1 && +prefix <= bits;
    })
  );
}

/** What the chassis itself reads: logs, shutdown, CORS, rate limiting; see docs/operations.md. */
export class PlatformSettings {
  /**
   * Where clients reach this service (`https://api.example.com/users`), the OpenAPI document's
   * server; empty: `/`, relative to wherever the document was fetched.
   */
  @Matches(/^$|^https?:\/\/\S+$/, {
    message: '$property must be empty or an http(s) URL',
  })
  API_PUBLIC_URL = '';

  /** The least severe log lines written; `silent` writes none. */
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

  /** Browser origins allowed to call the API (CORS), comma-separated; none when empty. */
  @Matches(/^$|^https?:\/\/[^\s,/]+(,https?:\/\/[^\s,/]+)*$/, {
    message:
      '$property must be a comma-separated list of origins like https://app.example.com',
  })
  CORS_ORIGINS = '';

  /** Requests per minute per client address; past it, 429 with `Retry-After`; 0 turns it off. */
  @EnvInt()
  @Max(1_000_000)
  @Min(0)
  @IsInt()
  RATE_LIMIT_PER_MINUTE = 0;

  /**
   * Which proxies in front may tell the client's address (X-Forwarded-For), as Express' `trust
   * proxy` setting: empty, none, and the client is whoever connects. Behind a load balancer that
   * is the balancer, for the rate limit and the logs alike, unless it is trusted here.
   */
  @EnvInt()
  @ValidateBy({
    name: 'isTrustProxy',
    validator: {
      validate: isTrustProxy,
      defaultMessage: () =>
        '$property must be a hop count (1 to 10), or a comma-separated list of IP addresses, CIDR ranges (10.0.0.0/8), loopback, linklocal or uniquelocal',
    },
  })
  TRUST_PROXY: number | string = '';
}
