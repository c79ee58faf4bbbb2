import { HttpException } from '@nestjs/common';
import type { FieldErrorDto } from './problem.dto';
import { STATUS_CODES } from 'node:http';

/** The members every problem has (see ProblemDetailsDto), plus any extensions. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  [extension: string]: unknown;
}

export interface ProblemOptions {
  /** Validation failures: every wrong field and why. */
  errors?: FieldErrorDto[];
  /** More members of the problem body (RFC 9457 extensions). */
  extensions?: Record<string, unknown>;
  /** Response headers to send with the problem, such as `Retry-After`. */
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * An error that answers as RFC 9457 problem details. Every problem uses `about:blank` as its type,
 * so its title is the status phrase and `detail` says what went wrong in this request.
 */
export class ProblemException extends HttpException {
  readonly headers: Record<string, string>;

  constructor(status: number, detail: string, options: ProblemOptions = {}) {
    const { errors, extensions, headers, cause } = options;
    super(
      {
        ...extensions,
        ...problemBody(status, detail),
        ...(errors && { errors }),
      },
      status,
      { cause },
    );
    this.headers = headers ?? {};
  }

  get problem(): ProblemBody {
    return this.getResponse() as ProblemBody;
  }
}

export function problemBody(status: number, detail: string): ProblemBody {
  return {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
  };
}
