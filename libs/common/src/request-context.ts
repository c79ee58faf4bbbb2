import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

export const REQUEST_ID_HEADER = 'x-request-id';
const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

interface RequestContext {
  requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** A client's request id if it is sane (at most 128 of `[A-Za-z0-9._-]`), else a new UUID. */
export function requestIdFor(header: string | string[] | undefined): string {
  return typeof header === 'string' && SANE_REQUEST_ID.test(header)
    ? header
    : randomUUID();
}

/** The id of the request being served, wherever in its handling this runs. */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

/** The id the request logger gave this request (see createHttpLogger). */
export function requestIdOf(request: Request): string | undefined {
  return typeof request.id === 'string' ? request.id : undefined;
}

/** Runs the rest of the request inside its context, so calls to other services can pass the id on. */
export function requestContextMiddleware(
  request: Request,
  _response: Response,
  next: NextFunction,
): void {
  storage.run(
    { requestId: requestIdOf(request) ?? requestIdFor(undefined) },
    next,
  );
}
