import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { LoggerModule } from 'nestjs-pino';
import { HealthController } from './health.controller';
import { AuthModule } from '@app/auth';
import { Database, DatabaseModule } from '@app/database';
import type { Migration } from 'kysely/migration';
import {
  IdempotencyInterceptor,
  IdempotencyStore,
  InMemoryIdempotencyStore,
  PostgresIdempotencyStore,
} from './idempotency';
import { Lifecycle } from './lifecycle';
import { createHttpLogger } from './logging';
import {
  createMetricsRegistry,
  HttpMetrics,
  METRICS_REGISTRY,
  MetricsController,
} from './metrics';
import { ServiceConfig } from './service.config';

export const HTTP_LOGGER = Symbol('HTTP_LOGGER');
export const SERVICE_INFO = Symbol('SERVICE_INFO');

export interface ServiceInfo {
  /** `users`, `orders`: in logs, metrics, traces and the API docs. */
  name: string;
  /** One paragraph for the API docs. */
  description: string;
  /** The schema of the service's database, used when DATABASE_URL is set. */
  migrations: Record<string, Migration>;
}

/**
 * What every service of ours has, the same in both apps: JSON logs with request ids, Prometheus
 * metrics, liveness and readiness, a shutdown that drains, the Idempotency-Key store and, when
 * asked for, rate limiting and the service's PostgreSQL database. The app's config is provided as `ServiceConfig` too, so this module
 * reads the shared settings without knowing the app.
 */
@Module({})
export class PlatformModule {
  static forRoot(service: ServiceInfo, config: ServiceConfig): DynamicModule {
    const httpLogger = createHttpLogger(service.name, config);
    return {
      module: PlatformModule,
      global: true,
      imports: [
        // Nest's own logs go to our pino logger. nestjs-pino binds no middleware: our request
        // logger runs first of all middleware (see configureHttpApp), so even a body the parser
        // refuses is logged, and lines get the request's id from its context, not a child logger.
        LoggerModule.forRoot({
          pinoHttp: { logger: httpLogger.logger },
          useExisting: true,
          forRoutes: [],
        }),
        TerminusModule.forRoot({ logger: false }),
        ...rateLimiting(config),
        AuthModule.forRoot(service.name, config),
        ...(config.DATABASE_URL
          ? [DatabaseModule.forRoot(service.name, config, service.migrations)]
          : []),
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: ServiceConfig, useValue: config },
        { provide: SERVICE_INFO, useValue: service },
        { provide: HTTP_LOGGER, useValue: httpLogger },
        {
          provide: METRICS_REGISTRY,
          useValue: createMetricsRegistry(service.name),
        },
        HttpMetrics,
        Lifecycle,
        config.DATABASE_URL
          ? {
              provide: IdempotencyStore,
              useFactory: (database: Database) =>
                new PostgresIdempotencyStore(database, config),
              inject: [Database],
            }
          : {
              provide: IdempotencyStore,
              useFactory: () => new InMemoryIdempotencyStore(config),
            },
        IdempotencyInterceptor,
        ...(config.RATE_LIMIT_PER_MINUTE > 0
          ? [{ provide: APP_GUARD, useClass: ThrottlerGuard }]
          : []),
      ],
      exports: [
        SERVICE_INFO,
        IdempotencyStore,
        IdempotencyInterceptor,
        ServiceConfig,
        HTTP_LOGGER,
        METRICS_REGISTRY,
        HttpMetrics,
        Lifecycle,
        TerminusModule,
      ],
    };
  }
}

/** Per-client rate limiting, only when RATE_LIMIT_PER_MINUTE is set: a 429 with Retry-After. */
function rateLimiting(config: ServiceConfig): DynamicModule[] {
  const limit = config.RATE_LIMIT_PER_MINUTE;
  if (limit === 0) return [];
  return [
    ThrottlerModule.forRoot({
      throttlers: [{ ttl: 60_000, limit }],
      errorMessage: `Too many requests: at most ${limit} a minute from one client`,
    }),
  ];
}
