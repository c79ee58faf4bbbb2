import {
  DynamicModule,
  INestApplication,
  NestApplicationOptions,
  Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Server } from 'node:http';
import type { Express, Request } from 'express';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { installContextPropagation } from '@app/telemetry';
import { Logger } from 'nestjs-pino';
import { setupApiDocs } from '../api-docs/openapi';
import { PlatformSettings } from '../config/platform.settings';
import { ProblemDetailsFilter } from '../errors/problem-details.filter';
import { answerUnreadableRequests } from '../errors/unreadable-requests';
import { enableCors } from '../http/cors';
import { inSequence } from '../http/middleware';
import { requestChecks } from '../http/request-checks';
import { securityHeaders } from '../http/security-headers';
import { createValidationPipe } from '../http/validation';
import { isNotModified } from '../http/conditional';
import type { HttpLogger } from '../observability/logging';
import { HttpMetrics } from '../observability/metrics';
import { requestContextMiddleware } from '../observability/request-context';
import { Lifecycle } from './lifecycle';
import { HTTP_LOGGER } from '../observability/logging';

const BODY_LIMIT = '100kb';

/**
 * How long an idle kept-alive connection stays open (Node's default, said here because the
 * balancer in front must close its idle connections sooner: nginx.conf's upstream
 * `keepalive_timeout` is below it). Whoever closes an idle connection races the other side's
 * next request on it; when the balancer closes first, it never sends into a closing one.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 5000;

/**
 * Options both `main.ts` and the e2e tests create the app with: we register the body parser
 * ourselves, and the start-up lines wait for the JSON logger.
 */
export const httpAppOptions: NestApplicationOptions = {
  bodyParser: false,
  bufferLogs: true,
};

/**
 * Everything every app sets up around its modules, in one place, so that the e2e tests boot an
 * app exactly as production does. The middleware order matters: logging, the request id and
 * metrics come before the body parser, so that a body it refuses is still logged and counted.
 */
export function configureHttpApp<T extends INestApplication>(app: T): T {
  // main.ts has done this already (see startTracing); a test app gets the same.
  installContextPropagation();
  const express = app as unknown as NestExpressApplication;
  app.useLogger(app.get(Logger));
  const settings = app.get(PlatformSettings);
  express.disable('x-powered-by');
  // Express answers 304 when req.fresh; it is evaluated here as RFC 9110 says (isNotModified).
  const instance: Express = express.getHttpAdapter().getInstance();
  Object.defineProperty(instance.request, 'fresh', {
    configurable: true,
    get(this: Request) {
      return isNotModified(
        this.method,
        this.res?.statusCode ?? 0,
        this.header('if-none-match'),
        this.res?.get('ETag'),
      );
    },
  });
  // req.ip, and so the rate limit's key and the logs' client_ip, is then the client's address
  // as the trusted proxies tell it, rather than the last proxy's.
  if (settings.TRUST_PROXY !== '')
    express.set('trust proxy', settings.TRUST_PROXY);
  express.use(securityHeaders);
  if (settings.CORS_ORIGINS) enableCors(app, settings.CORS_ORIGINS);
  express.use(
    inSequence(
      app.get(Lifecycle).middleware,
      requestContextMiddleware,
      app.get<HttpLogger>(HTTP_LOGGER).middleware,
      app.get(HttpMetrics).middleware,
    ),
  );
  express.use(requestChecks(BODY_LIMIT));
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter());
  answerUnreadableRequests(app.getHttpServer() as Server);
  setupApiDocs(app);
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
  (app.getHttpServer() as Server).keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  const { SHUTDOWN_DRAIN_MS, SHUTDOWN_TIMEOUT_MS } = app.get(PlatformSettings);
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
