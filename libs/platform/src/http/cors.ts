import type { INestApplication } from '@nestjs/common';
import type { CorsOptions } from '@nestjs/common/interfaces/external/cors-options.interface';
import type { Request } from 'express';
import { servedMethods } from './allowed-methods';

/**
 * CORS for the browser origins in CORS_ORIGINS. The methods allowed are the ones the app's routes
 * serve, read from its route table once the first request comes (the routes exist by then), so a
 * route added with a new method works from a browser without touching this.
 */
export function enableCors(app: INestApplication, origins: string): void {
  let options: CorsOptions | undefined;
  app.enableCors(
    (
      request: Request,
      callback: (error: Error | null, options: CorsOptions) => void,
    ) => {
      options ??= {
        origin: origins.split(','),
        methods: servedMethods(request),
        allowedHeaders: [
          'Authorization',
          'Content-Type',
          'Idempotency-Key',
          'If-Match',
          'If-None-Match',
          'X-Request-Id',
          'traceparent',
        ],
        exposedHeaders: [
          'X-Request-Id',
          'Retry-After',
          'Idempotent-Replayed',
          'WWW-Authenticate',
          'ETag',
          'Cache-Status',
        ],
        maxAge: 600,
      };
      callback(null, options);
    },
  );
}
