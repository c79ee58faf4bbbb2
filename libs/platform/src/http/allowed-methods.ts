import type { Request } from 'express';
import { isEndpoint } from './routes';

interface RouteLayer {
  match(path: string): unknown;
  route?: { methods: Record<string, boolean> };
}

/** The methods of the app's routes, matching `path` when given, read from Express's route table. */
function methodsOf(request: Request, path?: string): string[] {
  const stack = (
    request.app as unknown as { router?: { stack?: RouteLayer[] } }
  ).router?.stack;
  if (!Array.isArray(stack)) return [];
  const methods = new Set<string>();
  for (const layer of stack) {
    if (!isEndpoint(layer.route) || typeof layer.match !== 'function') continue;
    if (path !== undefined && !layer.match(path)) continue;
    for (const method of Object.keys(layer.route!.methods))
      methods.add(method.toUpperCase());
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

/**
 * The methods the app serves on the request's path, so a wrong method can be answered 405 with
 * `Allow` instead of a misleading 404. Any surprise in the shape of the table means "none known",
 * which keeps the 404.
 */
export function allowedMethods(request: Request): string[] {
  return methodsOf(request, request.path);
}

/** Every method any route of the app serves: what CORS lets a browser send. */
export function servedMethods(request: Request): string[] {
  return methodsOf(request);
}
