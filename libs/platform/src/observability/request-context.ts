import { context, createContextKey, trace } from '@opentelemetry/api';
import { requestTraceContext } from '@app/telemetry';
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

export const REQUEST_ID_HEADER = 'x-request-id';
const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The ids every log line of a request carries. */
export interface LogFields {
  request_id: string;
  trace_id?: string;
  span_id?: string;
}

interface RequestContext {
  requestId: string;
  logFields: LogFields;
  /** What the request's handling adds to its log line (see annotateRequestLog). */
  annotations?: Record<string, unknown>;
}

// Kept in the request's OpenTelemetry context, beside its trace: one async context per request.
const REQUEST_CONTEXT = createContextKey('users-orders request context');

export function currentContext(): RequestContext | undefined {
  return context.active().getValue(REQUEST_CONTEXT) as
    RequestContext | undefined;
}

/** A client's request id if it is sane (at most 128 of `[A-Za-z0-9._-]`), else a new UUID. */
function requestIdFor(header: string | string[] | undefined): string {
  return typeof header === 'string' && SANE_REQUEST_ID.test(header)
    ? header
    : randomUUID();
}

/** The id of the request being served, wherever in its handling this runs. */
export function currentRequestId(): string | undefined {
  return currentContext()?.requestId;
}

/** The request's id and trace ids, for its log lines; undefined outside a request. */
export function currentLogFields(): LogFields | undefined {
  return currentContext()?.logFields;
}

/**
 * Adds fields to the request's log line, such as how orders answered without asking users: the
 * line is written when the response is done, with whatever its handling added by then.
 */
export function annotateRequestLog(fields: Record<string, unknown>): void {
  const current = currentContext();
  if (current) current.annotations = { ...current.annotations, ...fields };
}

/** The id the request got (see requestContextMiddleware). */
export function requestIdOf(request: Request): string | undefined {
  return typeof request.id === 'string' ? request.id : undefined;
}

/**
 * Gives the request its id (the client's `X-Request-Id` if sane, else a new UUID), echoes it in
 * the response, and runs the rest of the request inside its context: its trace (see
 * requestTraceContext) and its ids, so that log lines and calls to other services carry them. The
 * ids a log line needs are worked out once here, not on every line.
 */
export function requestContextMiddleware(
  request: Request,
  response: Response,
  next: NextFunction,
): void {
  const requestId = requestIdFor(request.headers[REQUEST_ID_HEADER]);
  request.id = requestId;
  response.setHeader(REQUEST_ID_HEADER, requestId);
  const traced = requestTraceContext(request.headers);
  const span = trace.getSpanContext(traced);
  const logFields: LogFields = span
    ? { request_id: requestId, trace_id: span.traceId, span_id: span.spanId }
    : { request_id: requestId };
  context.with(
    traced.setValue(REQUEST_CONTEXT, { requestId, logFields }),
    next,
  );
}
