import { EnvInt, NotAbove, ServiceConfig } from '@app/common';
import { IsInt, IsUrl, Max, Min } from 'class-validator';

/** The orders app's environment; see the README for each variable. */
export class OrdersConfig extends ServiceConfig {
  @EnvInt()
  @Max(65535)
  @Min(1)
  @IsInt()
  ORDERS_PORT = 5002;

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
}
