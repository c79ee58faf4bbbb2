import {
  ExecutionContext,
  HttpStatus,
  createParamDecorator,
} from '@nestjs/common';
import type { Request } from 'express';
import { ProblemException } from '@app/contracts';

/**
 * A path id: a positive integer written in plain decimal digits. A custom decorator rather than
 * `@Param('id', pipe)` because the global validation pipe would first coerce the text with
 * `Number()`, turning `1e3` into 1000 and `0x10` into 16 before any pipe of ours could refuse it.
 */
export const IdParam = createParamDecorator(
  (name: string = 'id', context: ExecutionContext): number =>
    parsePositiveId(
      context.switchToHttp().getRequest<Request>().params[name],
      name,
    ),
);

function parsePositiveId(value: unknown, name = 'id'): number {
  const id =
    typeof value === 'string' && /^[1-9]\d{0,15}$/.test(value)
      ? Number(value)
      : NaN;
  if (!Number.isSafeInteger(id)) {
    throw new ProblemException(
      HttpStatus.BAD_REQUEST,
      `${name} must be a positive integer, got "${String(value).slice(0, 40)}"`,
      {
        errors: [
          { field: name, message: `${name} must be a positive integer` },
        ],
      },
    );
  }
  return id;
}
