import {
  CallHandler,
  ExecutionContext,
  HttpStatus,
  Injectable,
  Logger,
  NestInterceptor,
} from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { createHash } from 'node:crypto';
import { from, lastValueFrom, Observable, of, switchMap } from 'rxjs';
import { ProblemException } from '@app/contracts';
import { ClaimLostError, IdempotencyStore } from './idempotency.store';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed';
const MAX_KEY_LENGTH = 255;

/**
 * Makes a POST safe to retry. With an `Idempotency-Key`, the first request runs; the same key with
 * the same request replays its response (same status, same body, nothing created); with another
 * request it is a 422; while the first still runs, a 409. Only successful responses are
 * remembered: a request that fails, validation included, frees its key for another try.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly logger = new Logger(IdempotencyInterceptor.name);

  constructor(
    private readonly store: IdempotencyStore,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const key = request.header(IDEMPOTENCY_KEY_HEADER);
    if (key === undefined) return next.handle();
    if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
      throw new ProblemException(
        HttpStatus.BAD_REQUEST,
        `Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} characters`,
        {
          errors: [
            {
              field: 'Idempotency-Key',
              message: `must be 1 to ${MAX_KEY_LENGTH} characters`,
            },
          ],
        },
      );
    }

    return from(this.store.claim(key, fingerprint(request))).pipe(
      switchMap((claim) => {
        switch (claim.kind) {
          case 'mismatch':
            throw new ProblemException(
              HttpStatus.UNPROCESSABLE_ENTITY,
              'This Idempotency-Key was already used with a different request',
            );
          case 'in-progress':
            throw inProgress();
          case 'replay':
            response
              .status(claim.status)
              .setHeader(IDEMPOTENT_REPLAYED_HEADER, 'true');
            return of(claim.body);
          case 'new':
            return this.handleFirst(context, next, key, claim.entry);
        }
      }),
    );
  }

  private handleFirst(
    context: ExecutionContext,
    next: CallHandler,
    key: string,
    entry: object,
  ): Observable<unknown> {
    const request = context.switchToHttp().getRequest<Request>();
    const status =
      this.reflector.get<number>(HTTP_CODE_METADATA, context.getHandler()) ??
      (request.method === 'POST' ? HttpStatus.CREATED : HttpStatus.OK);
    // The answer is stored before it is sent, so a retry that follows it finds it. The handler
    // starts inside runFirst (next.handle() binds it to the async context it is called in), so
    // that what it writes joins the store's transaction.
    return from(
      this.store
        .runFirst(key, entry, status, () =>
          lastValueFrom(next.handle(), { defaultValue: undefined }),
        )
        .catch((error: unknown) => {
          if (!(error instanceof ClaimLostError)) throw error;
          this.logger.warn(error.message);
          throw inProgress();
        }),
    );
  }
}

function inProgress(): ProblemException {
  return new ProblemException(
    HttpStatus.CONFLICT,
    'A request with this Idempotency-Key is still in progress',
    { headers: { 'Retry-After': '1' } },
  );
}

/**
 * The request a key stands for: method, route and body, whatever the order of its keys. An
 * interceptor runs inside a matched route, so Express has set `request.route` to its endpoint.
 */
function fingerprint(request: Request): string {
  const route = (request.route as { path?: unknown } | undefined)?.path;
  return createHash('sha256')
    .update(
      JSON.stringify([
        request.method,
        typeof route === 'string' ? route : request.path,
        canonical(request.body),
      ]),
    )
    .digest('base64url');
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
  );
}
