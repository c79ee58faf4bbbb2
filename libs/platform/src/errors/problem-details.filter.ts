import { AuthError } from '@app/auth';
import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { StoreUnavailableError } from '@app/storage';
import { allowedMethods } from '../http/allowed-methods';
import {
  type ProblemBody,
  ProblemException,
  problemBody,
} from '@app/contracts';
import { requestIdOf } from '../observability/request-context';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * Answers every error, ours or the framework's, as `application/problem+json`. Bodies never carry
 * stack traces or framework wording for server faults; those are logged instead.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetails');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const { problem, headers } = this.toProblem(exception, request);
    // The id the client sees in X-Request-Id and our logs hold, to quote when reporting it.
    const body = { ...problem, request_id: requestIdOf(request) };

    if (
      exception instanceof StoreUnavailableError ||
      (exception instanceof AuthError && exception.status >= 500)
    ) {
      this.logger.warn(
        `${request.method} ${request.originalUrl}: ${exception.message}`,
      );
    } else if (
      problem.status >= 500 &&
      !(exception instanceof ProblemException)
    ) {
      this.logger.error(
        `${request.method} ${request.originalUrl} failed`,
        exception instanceof Error ? exception.stack : String(exception),
      );
    }
    if (response.headersSent) {
      // Part of a response already left; the only honest signal left is a broken connection.
      response.destroy();
      return;
    }
    response
      .status(problem.status)
      .set(headers)
      .type(PROBLEM_CONTENT_TYPE)
      .send(JSON.stringify(body));
  }

  private toProblem(
    exception: unknown,
    request: Request,
  ): { problem: ProblemBody; headers: Record<string, string> } {
    if (exception instanceof ProblemException) {
      return { problem: exception.problem, headers: exception.headers };
    }
    if (exception instanceof AuthError) {
      return {
        problem: problemBody(exception.status, exception.detail),
        headers: exception.headers,
      };
    }
    if (exception instanceof StoreUnavailableError) {
      // Nothing was stored; the same request may succeed once the database is back.
      return {
        problem: problemBody(
          HttpStatus.SERVICE_UNAVAILABLE,
          'The database is unavailable; try again shortly.',
        ),
        headers: { 'Retry-After': '1' },
      };
    }
    if (exception instanceof NotFoundException) {
      // Nest's own "no route" error: if the path exists under other methods, say which.
      const allow = allowedMethods(request);
      if (allow.length > 0) {
        return {
          problem: problemBody(
            HttpStatus.METHOD_NOT_ALLOWED,
            `${request.method} is not allowed on ${request.path}; allowed: ${allow.join(', ')}`,
          ),
          headers: { Allow: allow.join(', ') },
        };
      }
      return {
        problem: problemBody(
          HttpStatus.NOT_FOUND,
          `No route for ${request.method} ${request.path}`,
        ),
        headers: {},
      };
    }
    if (exception instanceof HttpException && exception.getStatus() < 500) {
      return {
        problem: problemBody(
          exception.getStatus(),
          clientErrorDetail(exception),
        ),
        headers: {},
      };
    }
    const status =
      exception instanceof HttpException
        ? exception.getStatus()
        : HttpStatus.INTERNAL_SERVER_ERROR;
    return {
      problem: problemBody(
        status,
        'The server could not complete the request.',
      ),
      headers: {},
    };
  }
}

/** Body-parser errors carry their cause; the rest say what they say. */
function clientErrorDetail(exception: HttpException): string {
  const cause = exception.cause as
    { type?: string; limit?: number; length?: number } | undefined;
  switch (cause?.type) {
    case 'entity.parse.failed':
      return `Request body is not valid JSON: ${exception.message}`;
    case 'entity.too.large':
      return `Request body is ${cause.length} bytes; the limit is ${cause.limit} bytes`;
    default:
      return messageOf(exception);
  }
}

function messageOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : exception.message;
}
