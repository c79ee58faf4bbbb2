import { applyDecorators, UseInterceptors } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { IdempotencyInterceptor } from './idempotency.interceptor';

const IDEMPOTENCY_KEY_DESCRIPTION =
  'Makes a retry safe: the same key with the same body replays the first answer ' +
  '(with Idempotent-Replayed: true) instead of creating again.';

/** Accepts an `Idempotency-Key` on this route (see IdempotencyInterceptor). */
export const Idempotent = () =>
  applyDecorators(
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      // How long keys are remembered is configured; see describeIdempotencyKeys.
      description: IDEMPOTENCY_KEY_DESCRIPTION,
      schema: { type: 'string', minLength: 1, maxLength: 255 },
    }),
  );
