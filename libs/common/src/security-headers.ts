import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { DOCS_PATH } from './api-docs';

const apiHeaders = helmet({
  // JSON responses load nothing and belong in no frame.
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  },
});
// Swagger UI is a page: it loads its own scripts, styles and images. Over the plain HTTP the
// services speak, upgrading those loads to HTTPS would break the page.
const docsHeaders = helmet({
  contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
});

/** Helmet's headers: the strictest for JSON answers, a page's for Swagger UI. */
export function securityHeaders(
  request: Request,
  response: Response,
  next: NextFunction,
): void {
  const headers =
    request.path === `/${DOCS_PATH}` ||
    request.path.startsWith(`/${DOCS_PATH}/`)
      ? docsHeaders
      : apiHeaders;
  headers(request, response, next);
}
