import type { Request } from 'express';

/** The route template that served a request (`/orders/:id`), or `unmatched`. */
export function routeOf(request: Request): string {
  const path: unknown = request.route?.path;
  return typeof path === 'string' ? path : 'unmatched';
}

/** Health and metrics: scraped and probed constantly, kept out of request metrics and info logs. */
export function isOperationsRoute(route: string): boolean {
  return route.startsWith('/health') || route === '/metrics';
}
