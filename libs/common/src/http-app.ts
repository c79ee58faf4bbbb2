import {
  DynamicModule,
  HttpStatus,
  INestApplication,
  NestApplicationOptions,
  Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import type { HttpLogger } from 'pino-http';
import { Lifecycle } from './lifecycle';
import { HttpMetrics } from './metrics';
import { HTTP_LOGGER, SERVICE_INFO, ServiceInfo } from './platform.module';
import { setupApiDocs } from './api-docs';
import { ProblemDetailsFilter } from './problem-details.filter';
import { ProblemException } from './problem.exception';
import { requestContextMiddleware } from './request-context';
import { ServiceConfig } from './service.config';
import { createValidationPipe } from './validation';

export const BODY_LIMIT = '100kb';
const JSON_TYPES = ['application/json', 'application/*+json'];
const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Options both `main.ts` and the e2e tests create the app with: we register the body parser
 * ourselves, and the start-up lines wait for the JSON logger.
 */
export const httpAppOptions: NestApplicationOptions = {
  bodyParser: false,
  bufferLogs: true,
};

/**
 * Everything both apps set up around their modules, in one place, so that the e2e tests boot an
 * app exactly as production does. The middleware order matters: logging, the request id and
 * metrics come before the body parser, so that a body it refuses is still logged and counted.
 */
export function configureHttpApp<T extends INestApplication>(app: T): T {
  const express = app as unknown as NestExpressApplication;
  app.useLogger(app.get(Logger));
  const config = app.get(ServiceConfig);
  express.disable('x-powered-by');
  express.use(securityHeaders);
  if (config.CORS_ORIGINS) {
    app.enableCors({
      origin: config.CORS_ORIGINS.split(','),
      methods: ['GET', 'HEAD', 'POST'],
      allowedHeaders: [
        'Content-Type',
        'Idempotency-Key',
        'X-Request-Id',
        'traceparent',
      ],
      exposedHeaders: ['X-Request-Id', 'Retry-After', 'Idempotent-Replayed'],
      maxAge: 600,
    });
  }
  express.use(app.get(Lifecycle).middleware);
  express.use(app.get<HttpLogger>(HTTP_LOGGER));
  express.use(requestContextMiddleware);
  express.use(app.get(HttpMetrics).middleware);
  express.use(requireJsonBody);
  express.useBodyParser('json', { limit: BODY_LIMIT, type: JSON_TYPES });
  express.use(requireJsonObject);
  express.use(refusePrototypeKeys);
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter());
  const service = app.get<ServiceInfo>(SERVICE_INFO);
  setupApiDocs(app, service.name, service.description);
  return app;
}

/** Creates a configured app for `main.ts`. */
export async function createHttpApp(
  module: Type | DynamicModule,
): Promise<INestApplication> {
  const app = await NestFactory.create(module, httpAppOptions);
  return configureHttpApp(app);
}

/**
 * Listens, and on SIGTERM or SIGINT shuts down in order (see `Lifecycle`) and exits 0. The whole
 * shutdown is bounded: if it hangs past drain + timeout + 5 s, the process exits 1. A second
 * signal (a second Ctrl-C) stops at once, with exit code 1.
 */
export async function runHttpApp(
  app: INestApplication,
  port: number,
  afterClose: () => Promise<void> = async () => undefined,
): Promise<void> {
  await app.listen(port);
  const { SHUTDOWN_DRAIN_MS, SHUTDOWN_TIMEOUT_MS } = app.get(ServiceConfig);
  let shuttingDown = false;
  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    if (shuttingDown) {
      process.exit(1);
    }
    shuttingDown = true;
    setTimeout(
      () => process.exit(1),
      SHUTDOWN_DRAIN_MS + SHUTDOWN_TIMEOUT_MS + 5000,
    ).unref();
    await app.get(Lifecycle).drain(signal);
    await app.close();
    await afterClose();
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, (received) => void shutdown(received));
  }
}

/**
 * Our POST bodies are JSON; a form or text body is refused up front instead of failing as
 * "missing fields". An empty body is left to validation, which names the missing fields.
 */
function requireJsonBody(
  request: Request,
  _response: Response,
  next: NextFunction,
): void {
  const hasBody =
    request.headers['transfer-encoding'] !== undefined ||
    Number(request.headers['content-length'] ?? 0) > 0;
  if (
    METHODS_WITH_BODY.has(request.method) &&
    hasBody &&
    !request.is(JSON_TYPES)
  ) {
    next(
      new ProblemException(
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        `Request body must be JSON (Content-Type: application/json), got ${request.headers['content-type'] ?? 'no Content-Type'}`,
      ),
    );
    return;
  }
  next();
}

const apiHeaders = helmet({
  // JSON responses load nothing and belong in no frame.
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  },
});
// Swagger UI is a page: it loads its own scripts, styles and images. Over the plain HTTP the
// services speak, upgrading those loads to HTTPS would break the page.
const docsHeaders = helmet({
  contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
});

function securityHeaders(
  request: Request,
  response: Response,
  next: NextFunction,
): void {
  const headers =
    request.path === '/docs' || request.path.startsWith('/docs/')
      ? docsHeaders
      : apiHeaders;
  headers(request, response, next);
}

/** Keys that could reach an object's prototype if a body were ever merged into an object. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The first forbidden key anywhere in a parsed body, walked without recursion (bodies may nest deep). */
function forbiddenKeyIn(body: object): string | undefined {
  const stack: unknown[] = [body];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value !== 'object') continue;
    for (const key of Object.keys(value)) {
      // Query keys arrive unparsed, like `__proto__[x]` or `a.constructor`.
      const forbidden = key
        .split(/[[\].]/)
        .find((part) => FORBIDDEN_KEYS.has(part));
      if (forbidden) return forbidden;
      stack.push((value as Record<string, unknown>)[key]);
    }
  }
  return undefined;
}

/** The parser accepts arrays too; every body of ours is an object. */
function requireJsonObject(
  request: Request,
  _response: Response,
  next: NextFunction,
): void {
  const body: unknown = request.body;
  if (
    METHODS_WITH_BODY.has(request.method) &&
    body !== undefined &&
    (body === null || typeof body !== 'object' || Array.isArray(body))
  ) {
    next(
      new ProblemException(
        HttpStatus.BAD_REQUEST,
        'Request body must be a JSON object',
      ),
    );
    return;
  }
  next();
}

/**
 * No body or query has a key that could reach a prototype (`__proto__`, `constructor`,
 * `prototype`): such a request is refused, not quietly stripped, so the client learns of it.
 */
function refusePrototypeKeys(
  request: Request,
  _response: Response,
  next: NextFunction,
): void {
  const body: unknown = request.body;
  const inQuery = forbiddenKeyIn(request.query);
  const forbidden =
    inQuery ??
    (body && typeof body === 'object' ? forbiddenKeyIn(body) : undefined);
  if (!forbidden) {
    next();
    return;
  }
  next(
    new ProblemException(
      HttpStatus.BAD_REQUEST,
      `Request ${inQuery ? 'query' : 'body'} must not contain the key "${forbidden}"`,
      {
        errors: [
          { field: forbidden, message: `property ${forbidden} is not allowed` },
        ],
      },
    ),
  );
}
