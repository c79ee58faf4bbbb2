import { principalOf } from '@app/auth';
import type { NextFunction, Request, Response } from 'express';
import { createRequire } from 'node:module';
import pino, { type Level, type Logger } from 'pino';
import { LineBatches } from './line-batches';
import { currentContext, currentLogFields } from './request-context';
import type { PlatformSettings } from '../config/platform.settings';
import { isOperationsRoute, routeOf } from '../http/routes';

const NO_FIELDS = Object.freeze({});

/** The service's HttpLogger, for Nest's logger and the request middleware. */
export const HTTP_LOGGER = Symbol('HTTP_LOGGER');

export interface HttpLogger {
  /** The service's pino logger; nestjs-pino routes Nest's own logs to it. */
  logger: Logger;
  /** Writes the request's line when the response is done (after requestContextMiddleware). */
  middleware: (
    request: Request,
    response: Response,
    next: NextFunction,
  ) => void;
}

/**
 * The service's pino logger and its per-request middleware. Every line carries the service, and
 * inside a request its id and trace id, read from the request's context (requestContextMiddleware)
 * rather than from a logger made per request. A request's line holds the client's address,
 * method, route, status, duration, request id and trace id, never bodies or headers, so
 * `authorization` and `cookie` cannot leak.
 *
 * This replaces pino-http, which made two child loggers for every request: that cost more CPU
 * than the rest of a `GET /users/:id` together. The lines it wrote are unchanged.
 */
export function createHttpLogger(
  service: string,
  config: PlatformSettings,
): HttpLogger {
  const pretty = prettyTarget(config);
  const logger = pino(
    {
      level: config.LOG_LEVEL,
      base: { service },
      // A request's own line brings its ids along; any other line inside a request gets them here.
      mixin: (line: object) =>
        'request_id' in line ? NO_FIELDS : (currentLogFields() ?? NO_FIELDS),
      mixinMergeStrategy: (line: object, fields: object) =>
        fields === NO_FIELDS ? line : { ...fields, ...line },
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
    },
    // Written in batches, and on disk before the process exits (LineBatches).
    pretty ? undefined : new LineBatches(),
  );

  const middleware = (
    request: Request,
    response: Response,
    next: NextFunction,
  ): void => {
    const started = Date.now();
    // Taken now, inside the request's context: the line is written when the response is done,
    // which may run outside it.
    const context = currentContext();
    // `on`, not `once`: a response closes once, and once's wrapper and its removal cost as much
    // as the rest of the listener's bookkeeping.
    response.on('close', () => {
      const route = routeOf(request);
      const failed = response.statusCode >= 500;
      // Probes and scrapes come every few seconds, and a 503 from readiness is news for the
      // balancer, not for whoever reads the logs.
      const level: Level = isOperationsRoute(route)
        ? 'debug'
        : failed
          ? 'error'
          : 'info';
      if (!logger.isLevelEnabled(level)) return;
      const principal = principalOf(request);
      // Built by assignment, in the line's order: in an object literal, every property after a
      // spread is defined by a call into V8's runtime, six of them a line.
      const line: Record<string, unknown> = {
        ...context?.logFields,
        ...context?.annotations,
      };
      // Who, as the verified token says; never the token.
      if (principal?.sub !== undefined) line.sub = principal.sub;
      if (principal?.clientId !== undefined)
        line.client_id = principal.clientId;
      // Express works it out on first read, from the peer and, with TRUST_PROXY, from
      // X-Forwarded-For: read here, only for a line that is written.
      line.client_ip = request.ip;
      line.method = request.method;
      line.route = route;
      line.url = request.originalUrl;
      line.status = response.statusCode;
      line.duration_ms = Date.now() - started;
      logger[level](line, failed ? 'request failed' : 'request completed');
    });
    next();
  };
  return { logger, middleware };
}

/**
 * pino-pretty, by absolute path, when lines should be human-readable: outside production, when
 * anything is logged, and where it is installed (it is a dev dependency). pino would otherwise
 * resolve the name from its caller's file, which under source maps is a `webpack://` path.
 */
function prettyTarget(config: PlatformSettings): string | undefined {
  if (config.NODE_ENV === 'production' || config.LOG_LEVEL === 'silent')
    return undefined;
  try {
    return createRequire(__filename).resolve('pino-pretty');
  } catch {
    return undefined;
  }
}
