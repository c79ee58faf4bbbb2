import { applyDecorators, UseInterceptors } from '@nestjs/common';
import { IdempotencyInterceptor } from './idempotency.interceptor';

/** Accepts an `Idempotency-Key` on this route (see IdempotencyInterceptor). */
export const Idempotent = () =>
  applyDecorators(UseInterceptors(IdempotencyInterceptor));
