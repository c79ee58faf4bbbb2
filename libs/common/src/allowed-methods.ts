import type { Request } from 'express';
import { isEndpoint } from './routes';

interface RouteLayer {
  match(path: string): unknown;
  route?: { methods: Record<string, boolean> };
}

/**
 * The methods the app serves on the request's path, read from Express's route table, so a wrong
 * method can be answered 405 with `Allow` instead of a misleading 404. Any surprise in the shape
 * of the table means "none known", which keeps the 404.
 */
export function allowedMethods(request: Request): string[] {
  const stack = (
    request.app as unknown as { router?: { stack?: RouteLayer[] } }
  ).router?.stack;
  if (!Array.isArray(stack)) return [];
  const allowed = new Set<string>();
  for (const layer of stack) {
    if (!isEndpoint(layer.route) || typeof layer.match !== 'function') continue;
    if (!layer.match(request.path)) continue;
    for (const method of Object.keys(layer.route!.methods))
      allowed.add(method.toUpperCase());
  }
  if (allowed.has('GET')) allowed.add('HEAD');
  return [...allowed].sort();
}
