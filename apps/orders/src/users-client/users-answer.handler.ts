import type { Dispatcher } from 'undici';

type Handler = Dispatcher.DispatchHandler;
type IncomingHttpHeaders = Parameters<
  NonNullable<Handler['onResponseStart']>
>[2];

/**
 * The response headers the users client may read. axios normalizes every header of every response
 * (a search per header among the others), and the users app sends twenty, helmet's among them:
 * that cost more than the rest of a call. These are what a caller of users can act on.
 */
export const HEADERS_READ = ['content-type', 'retry-after', 'www-authenticate'];

/**
 * `handler`, seeing users' answer to a GET of a user before orders' copies (undici's cache) do:
 * a 404 or 410 forgets the copy (an erasure), a 200 or 304 confirms it once the whole answer has
 * arrived (one cut short leaves the copy as it was, and its age too), and only the headers orders
 * keeps go on, a 304's freshening the copy rather than replacing it.
 */
export function watchedAnswer(
  handler: Handler,
  copy: { confirm(): void; forget(): void },
): Handler {
  let status = 0;
  return {
    // What it does not watch passes straight on. No GET of a user upgrades its connection, so
    // there is no onRequestUpgrade to pass on.
    onRequestStart: (controller, context) =>
      handler.onRequestStart?.(controller, context),
    onResponseData: (controller, chunk) =>
      handler.onResponseData?.(controller, chunk),
    onResponseError: (controller, error) =>
      handler.onResponseError?.(controller, error),
    onResponseStart: (controller, code, headers, message) => {
      status = code;
      if (code === 404 || code === 410) copy.forget();
      const kept = onlyKept(headers);
      return handler.onResponseStart?.(
        controller,
        code,
        code === 304 ? freshening(kept) : kept,
        message,
      );
    },
    onResponseEnd: (controller, trailers) => {
      if (status === 200 || status === 304) copy.confirm();
      return handler.onResponseEnd?.(controller, trailers);
    },
  };
}

/**
 * What orders keeps of users' answers: what the cache works by (RFC 9111) and what the users client
 * reads. The rest (helmet's headers, request ids) would be stored with each copy and replayed with
 * every 304, for no reader.
 */
const KEPT_HEADERS = [
  'age',
  'cache-control',
  'date',
  'etag',
  'expires',
  'last-modified',
  'vary',
  ...HEADERS_READ,
];

function onlyKept(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const kept: IncomingHttpHeaders = {};
  for (const name of KEPT_HEADERS)
    if (headers[name] !== undefined) kept[name] = headers[name];
  return kept;
}

/**
 * RFC 9111 §4.3.4: a 304 freshens the stored response with its headers. undici drops the copy
 * instead when a 304 has Cache-Control, which users' always has (it repeats `no-cache`), so the
 * next call would fetch the whole user again, without If-None-Match. Without it, undici keeps the
 * copy, whose stored directives still hold. A 304 that says `no-store` keeps it, and undici drops
 * the copy as it must.
 */
function freshening(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const directives = headers['cache-control'];
  if (directives === undefined || /\bno-store\b/i.test(String(directives)))
    return headers;
  const { 'cache-control': _stored, ...rest } = headers;
  return rest;
}
