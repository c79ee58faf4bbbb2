import { EnvInt } from '@app/config';
import { IsIn, IsInt, IsString, Matches, Max, Min } from 'class-validator';

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

/** What the chassis itself reads: logs, shutdown, CORS, rate limiting; see the README. */
export class PlatformSettings {
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

  /** Requests per minute per client address; 0 turns rate limiting off. */
  @EnvInt()
  @Max(1_000_000)
  @Min(0)
  @IsInt()
  RATE_LIMIT_PER_MINUTE = 0;
}
