import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { LoggerModule } from 'nestjs-pino';
import { AuthModule } from '@app/auth';
import { partsOf } from '@app/config';
import { IdempotencyModule } from '@app/idempotency';
import { DatabaseModule, inDatabase } from '@app/storage';
import { ServiceConfig } from '../config/service-config';
import { createHttpLogger } from '../observability/logging';
import { DatabaseMetrics } from '../observability/database-metrics';
import { HealthController } from '../observability/health.controller';
import {
  createMetricsRegistry,
  HttpMetrics,
  METRICS_REGISTRY,
  MetricsController,
} from '../observability/metrics';
import { Lifecycle } from './lifecycle';
import { HTTP_LOGGER } from '../observability/logging';
import { SERVICE, type ServiceDefinition } from './service-definition';

/**
 * The chassis every service boots on, the same in each: JSON logs with request ids, Prometheus
 * metrics, liveness and readiness, a shutdown that drains, `Idempotency-Key`s, bearer-token auth,
 * and, when configured, rate limiting and the service's PostgreSQL database. Global: the app's
 * config is provided under its own class, and each settings class it is composed of
 * (`AuthSettings`, `UsersClientSettings`, ...) as an instance of that class with its values, so
 * every provider injects only the settings it owns, and gets what its type says.
 */
@Module({})
export class PlatformModule {
  static forRoot<C extends ServiceConfig>(
    service: ServiceDefinition<C>,
    config: C,
  ): DynamicModule {
    const httpLogger = createHttpLogger(service.name, config);
    const hasDatabase = inDatabase(config);
    // Each part as what it is: an instance of its own class, with its own variables' values.
    const settings = [
      { provide: service.config, useValue: config },
      ...partsOf(service.config)
        .filter(({ part }) => part !== service.config)
        .map(({ part, keys }) => ({
          provide: part,
          useValue: Object.assign(
            new part(),
            Object.fromEntries(
              keys.map((key) => [key, Reflect.get(config, key)]),
            ),
          ),
        })),
    ];
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
        DiscoveryModule,
        ...rateLimiting(config.RATE_LIMIT_PER_MINUTE),
        AuthModule.forRoot(service.name, config),
        ...(hasDatabase
          ? [DatabaseModule.forRoot(service.name, config, service.migrations)]
          : []),
        IdempotencyModule.forRoot(config),
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        ...settings,
        { provide: SERVICE, useValue: service },
        { provide: HTTP_LOGGER, useValue: httpLogger },
        {
          provide: METRICS_REGISTRY,
          useValue: createMetricsRegistry(service.name),
        },
        HttpMetrics,
        DatabaseMetrics,
        Lifecycle,
        ...(config.RATE_LIMIT_PER_MINUTE > 0
          ? [{ provide: APP_GUARD, useClass: ThrottlerGuard }]
          : []),
      ],
      exports: [
        ...settings.map(({ provide }) => provide),
        SERVICE,
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
function rateLimiting(limit: number): DynamicModule[] {
  if (limit === 0) return [];
  return [
    ThrottlerModule.forRoot({
      throttlers: [{ ttl: 60_000, limit }],
      errorMessage: `Too many requests: at most ${limit} a minute from one client`,
    }),
  ];
}
