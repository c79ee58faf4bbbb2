import { EnvInt } from '@app/config';
import { IsInt, Max, Min } from 'class-validator';

/** How `Idempotency-Key`s are remembered, from the service's environment; see docs/api.md. */
export class IdempotencySettings {
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

  /**
   * With a database: how long a replica may hold an Idempotency-Key in flight before another may
   * take it over.
   */
  @EnvInt()
  @Max(3600 * 1000)
  @Min(1000)
  @IsInt()
  IDEMPOTENCY_LEASE_MS = 60_000;
}
