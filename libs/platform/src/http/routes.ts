import type { Request } from 'express';
import { METHODS } from 'node:http';

interface ExpressRoute {
  path?: unknown;
  methods?: Record<string, boolean>;
}

/**
 * Whether an Express route is one of our endpoints. Nest binds middleware for every path as a
 * route of every method (nestjs-pino's does), which is no endpoint: it would claim every path for
 * every method, and leave its wildcard as the route of a request no endpoint matched.
 */
export function isEndpoint(route: ExpressRoute | undefined): boolean {
  if (route === undefined) return false;
  let endpoint = endpoints.get(route);
  if (endpoint === undefined) {
    const methods = Object.keys(route.methods ?? {});
    endpoint =
      methods.length > 0 &&
      !methods.includes('_all') &&
      methods.length < METHODS.length;
    endpoints.set(route, endpoint);
  }
  return endpoint;
}

// Asked of the same few routes on every request, for logs and metrics: worked out once each.
const endpoints = new WeakMap<ExpressRoute, boolean>();

/** The route template that served a request (`/orders/:id`), or `unmatched`. */
export function routeOf(request: Request): string {
  const route = request.route as ExpressRoute | undefined;
  return isEndpoint(route) && typeof route?.path === 'string'
    ? route.path
    : 'unmatched';
}

/** Health and metrics: scraped and probed constantly, kept out of request metrics and info logs. */
export function isOperationsRoute(route: string): boolean {
  return route.startsWith('/health') || route === '/metrics';
}
