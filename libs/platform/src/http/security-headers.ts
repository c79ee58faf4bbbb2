import type { NextFunction, Request, Response } from 'express';
import type { Middleware } from './middleware';
import helmet from 'helmet';
import { DOCS_PATH } from '../api-docs/openapi';

/** What a helmet middleware does to a response: headers it sets and headers it removes. */
interface HeaderChanges {
  set: [name: string, value: string][];
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

// JSON responses load nothing and belong in no frame.
const apiHeaders = recordHeaderChanges(
  helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
  }),
);
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

/** Helmet's headers: the strictest for JSON answers, a page's for Swagger UI. */
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
