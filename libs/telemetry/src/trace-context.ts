import {
  context,
  type Context,
  propagation,
  trace,
  TraceFlags,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { randomBytes } from 'node:crypto';

/**
 * What carries a trace (and our request context, see @app/platform) through a request and on to
 * other services: OpenTelemetry's context manager on AsyncLocalStorage and the W3C propagator.
 * The SDK installs both itself when it runs; otherwise this does, once.
 */
export function installContextPropagation(): void {
  const manager = new AsyncLocalStorageContextManager();
  if (context.setGlobalContextManager(manager)) {
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  } else {
    manager.disable();
  }
}

/**
 * The request's trace context. When an SDK instrumentation made a server span, that is it.
 * Otherwise (no exporter) nothing is recorded, but the request still belongs to a W3C trace: the
 * caller's `traceparent` is continued with a span id of ours, keeping its flags, or a trace starts,
 * marked not sampled. Log lines carry its ids, and calls to other services pass it on.
 */
export function requestTraceContext(headers: IncomingHttpHeaders): Context {
  const active = context.active();
  if (trace.getSpan(active)) return active;
  const parent = propagation.extract(active, headers);
  const caller = trace.getSpanContext(parent);
  const continued = caller !== undefined && trace.isSpanContextValid(caller);
  const ids = randomHex(continued ? 8 : 24);
  return trace.setSpanContext(parent, {
    traceId: continued ? caller.traceId : ids.slice(16),
    spanId: ids.slice(0, 16),
    traceFlags: continued ? caller.traceFlags : TraceFlags.NONE,
  });
}

let instrumented = false;

/** The SDK's client instrumentations send `traceparent` from here on (see startSdk). */
export function clientsInstrumented(): void {
  instrumented = true;
}

/**
 * Adds the current trace's `traceparent` to the headers of a call to another service, unless an
 * SDK instrumentation adds its client span's own (a second one would be sent beside it).
 */
export function injectTraceContext(headers: OutgoingHttpHeaders): void {
  if (!instrumented) propagation.inject(context.active(), headers);
}

// Random bytes drawn a page at a time, and written out in hex once a page: a system call per
// request would cost more than the rest of the trace context, and a hex conversion per request
// about as much as slicing the page's string.
const POOL_BYTES = 4096;
let pool = '';
let used = POOL_BYTES;

function randomHex(bytes: number): string {
  if (used + bytes > POOL_BYTES) {
    pool = randomBytes(POOL_BYTES).toString('hex');
    used = 0;
  }
  used += bytes;
  return pool.slice(2 * (used - bytes), 2 * used);
}
