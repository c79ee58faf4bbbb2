import { trace } from '@opentelemetry/api';
import type { Request, Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import pino from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';
import { REQUEST_ID_HEADER, requestIdFor } from './request-context';
import type { ServiceConfig } from './service.config';
import { isOperationsRoute, routeOf } from './routes';

/**
 * The service's pino logger and its per-request middleware. Every line carries the service, and
 * inside a traced request the trace id. A request's line holds method, route, status, duration,
 * request id and trace id, never bodies or headers, so `authorization` and `cookie` cannot leak.
 */
export function createHttpLogger(
  service: string,
  config: ServiceConfig,
): HttpLogger {
  const pretty = prettyTarget(config);
  const logger = pino({
    level: config.LOG_LEVEL,
    base: { service },
    mixin: traceFields,
    redact: [
      'req.headers.authorization',
      'req.headers.cookie',
      'res.headers["set-cookie"]',
    ],
    ...(pretty && {
      transport: {
        target: pretty,
        options: { singleLine: true },
      },
    }),
  });
  return pinoHttp({
    logger,
    genReqId: (request, response) => {
      const id = requestIdFor(request.headers[REQUEST_ID_HEADER]);
      response.setHeader(REQUEST_ID_HEADER, id);
      // Taken here, inside the request's server span: the line written when the response has
      // finished may run outside it.
      requestTraceIds.set(request, traceFields().trace_id);
      return id;
    },
    // Request-scoped lines carry only the request id, not the whole request.
    quietReqLogger: true,
    quietResLogger: true,
    customAttributeKeys: { reqId: 'request_id', responseTime: 'duration_ms' },
    customLogLevel: (request, response, error) => {
      // Probes and scrapes come every few seconds, and a 503 from readiness is news for the
      // balancer, not for whoever reads the logs.
      if (isOperationsRoute(routeOf(request as Request))) return 'debug';
      return error || response.statusCode >= 500 ? 'error' : 'info';
    },
    customSuccessObject: (request, response, fields) =>
      requestFields(request, response, fields),
    customErrorObject: (request, response, error, fields) => ({
      ...requestFields(request, response, fields),
      err: error,
    }),
    customSuccessMessage: () => 'request completed',
    customErrorMessage: () => 'request failed',
  });
}

function requestFields(
  request: IncomingMessage,
  response: ServerResponse,
  fields: Record<string, unknown>,
) {
  const req = request as Request;
  return {
    method: req.method,
    route: routeOf(req),
    url: req.originalUrl,
    status: (response as Response).statusCode,
    duration_ms: fields.duration_ms,
    trace_id: requestTraceIds.get(request),
  };
}

const requestTraceIds = new WeakMap<IncomingMessage, string | undefined>();

/**
 * pino-pretty, by absolute path, when lines should be human-readable: outside production, when
 * anything is logged, and where it is installed (it is a dev dependency). pino would otherwise
 * resolve the name from its caller's file, which under source maps is a `webpack://` path.
 */
function prettyTarget(config: ServiceConfig): string | undefined {
  if (config.NODE_ENV === 'production' || config.LOG_LEVEL === 'silent')
    return undefined;
  try {
    return createRequire(__filename).resolve('pino-pretty');
  } catch {
    return undefined;
  }
}

function traceFields(): { trace_id?: string; span_id?: string } {
  const context = trace.getActiveSpan()?.spanContext();
  return context && trace.isSpanContextValid(context)
    ? { trace_id: context.traceId, span_id: context.spanId }
    : {};
}
