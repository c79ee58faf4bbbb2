import { HttpException } from '@nestjs/common';
import type { FieldErrorDto, ProblemDetailsDto } from '@app/contracts';
import { STATUS_CODES } from 'node:http';

/**
 * An error that answers as RFC 9457 problem details. Every problem uses `about:blank` as its type,
 * so its title is the status phrase and `detail` says what went wrong in this request.
 */
export class ProblemException extends HttpException {
  constructor(
    status: number,
    detail: string,
    extensions: {
      errors?: FieldErrorDto[];
      headers?: Record<string, string>;
    } = {},
    options?: { cause?: unknown },
  ) {
    const { headers, ...rest } = extensions;
    super(problemBody(status, detail, rest), status, options);
    this.headers = headers ?? {};
  }

  readonly headers: Record<string, string>;

  get problem(): ProblemDetailsDto {
    return this.getResponse() as ProblemDetailsDto;
  }
}

export function problemBody(
  status: number,
  detail: string,
  extensions: Pick<ProblemDetailsDto, 'errors'> = {},
): ProblemDetailsDto {
  return {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    ...extensions,
  };
}
