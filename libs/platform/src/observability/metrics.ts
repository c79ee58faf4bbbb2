import { Public } from '@app/auth';
import { SkipThrottle } from '@nestjs/throttler';
import {
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import {
  Controller,
  Get,
  Header,
  Inject,
  Injectable,
  Res,
} from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { isOperationsRoute, routeOf } from '../http/routes';

/** Each app's own registry: several apps in one test process must not share metrics. */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Request durations by method, route template and status; health and metrics are left out. */
@Injectable()
export class HttpMetrics {
  private readonly duration: Histogram<'method' | 'route' | 'status_code'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Duration of HTTP requests, by method, route template and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  }

  /**
   * Observes each request's duration when its response finishes. The duration is taken with
   * `performance.now()` and observed directly: prom-client's `startTimer` makes two closures, an
   * `hrtime` pair and a merged copy of the labels for every request.
   */
  readonly middleware = (
    request: Request,
    response: Response,
    next: NextFunction,
  ): void => {
    const started = performance.now();
    // A response finishes once: `on` spares once's wrapper and its removal.
    response.on('finish', () => {
      const route = routeOf(request);
      if (isOperationsRoute(route)) return;
      this.duration.observe(
        {
          method: request.method,
          route,
          status_code: String(response.statusCode),
        },
        (performance.now() - started) / 1000,
      );
    });
    next();
  };
}

@ApiTags('operations')
@SkipThrottle()
// Probes and scrapers carry no tokens; what they show is no one's data.
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(METRICS_REGISTRY) private readonly registry: Registry) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'getMetrics',
    summary: 'Prometheus metrics',
    description:
      "The process's and the service's metrics, for Prometheus to scrape.",
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'Prometheus text exposition format (version 0.0.4)',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  async metrics(
    @Res({ passthrough: true }) response: Response,
  ): Promise<string> {
    response.type(this.registry.contentType);
    return this.registry.metrics();
  }
}
