import { HttpStatus } from '@nestjs/common';
import { json, type NextFunction, type Request, type Response } from 'express';
import { inSequence, type Middleware } from './middleware';
import { ProblemException } from '@app/contracts';

/** The media types our bodies may have. */
const JSON_TYPES = ['application/json', 'application/*+json'];
/** Every PATCH of ours is a JSON Merge Patch (RFC 7396); plain JSON is read as one. */
const MERGE_PATCH_TYPES = ['application/merge-patch+json', 'application/json'];
const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Our bodies are JSON, and a PATCH's a merge patch; a form, a text or a JSON Patch (RFC 6902) body
 * is refused up front instead of failing as "missing fields". An empty body is left to
 * validation, which names what is missing.
 */
function requireJsonBody(
  request: Request,
  _response: Response,
  next: NextFunction,
): void {
  const hasBody =
    request.headers['transfer-encoding'] !== undefined ||
    Number(request.headers['content-length'] ?? 0) > 0;
  const patch = request.method === 'PATCH';
  if (hasBody && !request.is(patch ? MERGE_PATCH_TYPES : JSON_TYPES)) {
    next(
      new ProblemException(
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        patch
          ? `A PATCH body must be a JSON merge patch (Content-Type: application/merge-patch+json), got ${request.headers['content-type'] ?? 'no Content-Type'}`
          : `Request body must be JSON (Content-Type: application/json), got ${request.headers['content-type'] ?? 'no Content-Type'}`,
      ),
    );
    return;
  }
  next();
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
  // Express parses the query on every read of request.query; most requests have none.
  const inQuery = request.url.includes('?')
    ? forbiddenKeyIn(request.query)
    : undefined;
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

/**
 * Every check of what a request carries, in order, as one middleware: a JSON body, parsed with
 * Express's parser within `bodyLimit`, that is an object, and no prototype keys in body or query.
 * Methods without a body only have their query checked.
 */
export function requestChecks(bodyLimit: string): Middleware {
  const withBody = inSequence(
    requireJsonBody,
    json({ limit: bodyLimit, type: JSON_TYPES }),
    requireJsonObject,
    refusePrototypeKeys,
  );
  return (request, response, next) =>
    METHODS_WITH_BODY.has(request.method)
      ? withBody(request, response, next)
      : refusePrototypeKeys(request, response, next);
}
