import type { NextFunction, Request, Response } from 'express';
import type { Middleware } from './middleware';
import helmet from 'helmet';
import { DOCS_PATH } from '../api-docs/openapi';

/** What a helmet middleware does to a response: headers it sets and headers it removes. */
interface HeaderChanges {
  set: (readonly [name: string, value: string])[];
  removed: string[];
}

/**
 * Runs a helmet middleware once against a recorder. Our policies hold no per-request values (no
 * nonces), so helmet's answer is the same for every response; asking it per request would rebuild
 * the content security policy string every time, which cost more than the handler.
 */
function recordHeaderChanges(middleware: Middleware): HeaderChanges {
  const set = new Map<string, string>();
  const removed = new Set<string>();
  let finished = false;
  const recorder = {
    setHeader(name: string, value: unknown) {
      set.set(name, String(value));
      removed.delete(name.toLowerCase());
    },
    removeHeader(name: string) {
      set.delete(name);
      removed.add(name.toLowerCase());
    },
  };
  middleware({} as Request, recorder as unknown as Response, (error) => {
    if (error) throw error;
    finished = true;
  });
  if (!finished) throw new Error('helmet did not finish synchronously');
  return { set: [...set], removed: [...removed] };
}

/**
 * What an API answer carries, as OWASP's REST Security Cheat Sheet lists it: it loads nothing and
 * belongs in no frame, its type is what it says, it is reached over HTTPS from now on, and no
 * cache keeps it. A route that may be kept sets its own Cache-Control over this one (a user's
 * `no-cache`, revalidated by its ETag). helmet's other headers are for pages, which a JSON answer
 * is not; they were about 500 bytes on a 44-byte body.
 */
const API_HEADERS: readonly (readonly [string, string])[] = [
  ['Cache-Control', 'no-store'],
  ['Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'"],
  ['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'],
  ['X-Content-Type-Options', 'nosniff'],
  ['X-Frame-Options', 'DENY'],
];
const apiHeaders: HeaderChanges = { set: [...API_HEADERS], removed: [] };
// Swagger UI is a page: it loads its own scripts, styles and images. Over the plain HTTP the
// services speak, upgrading those loads to HTTPS would break the page.
const docsHeaders = recordHeaderChanges(
  helmet({
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
  }),
);

function isDocsPath(url: string): boolean {
  const next = url.charAt(DOCS_PATH.length + 1);
  return (
    url.startsWith(`/${DOCS_PATH}`) &&
    (next === '' || next === '/' || next === '?')
  );
}

/** The API's headers on JSON answers, helmet's page headers on Swagger UI; both worked out once. */
export function securityHeaders(
  request: Request,
  response: Response,
  next: NextFunction,
): void {
  const { set, removed } = isDocsPath(request.url) ? docsHeaders : apiHeaders;
  for (const name of removed) response.removeHeader(name);
  for (const [name, value] of set) response.setHeader(name, value);
  next();
}
