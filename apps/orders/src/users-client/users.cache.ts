import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { cacheStores, type Dispatcher, interceptors } from 'undici';
import { UsersClientSettings, usersLocation } from './users-client.settings';

/** Where orders' own bearer token rides past the cache (see `UsersCache.interceptors`). */
export const BEARER = Symbol('users bearer token');

/**
 * The response headers the users client may read. axios normalizes every header of every response
 * (a search per header among the others), and the users app sends twenty, helmet's among them:
 * that cost more than the rest of a call. These are what a caller of users can act on.
 */
export const HEADERS_READ = ['content-type', 'retry-after', 'www-authenticate'];

/** Copies are tiny (a name and an email); this bounds the bytes as the count bounds the entries. */
const MAX_ENTRY_BYTES = 16 * 1024;
/** Forgotten this long after users last confirmed them, if the stale window is not longer. */
const MIN_RETENTION_MS = 60_000;
const SWEEP_EVERY_MS = 30_000;

type Interceptor = Dispatcher.DispatcherComposeInterceptor;
type Handler = Dispatcher.DispatchHandler;
type IncomingHttpHeaders = Parameters<
  NonNullable<Handler['onResponseStart']>
>[2];

/** The copy of a user that users last confirmed, and how long ago it did. */
export interface ConfirmedCopy {
  body: string;
  confirmedMsAgo: number;
}

/**
 * Orders' copies of the users it fetched, kept and revalidated by undici's HTTP cache (RFC 9111):
 * users answers `Cache-Control: no-cache` with an ETag, so every call sends If-None-Match and a 304
 * serves the copy. Written here is only what undici does not do: a 304 that repeats the stored
 * Cache-Control freshens the copy instead of dropping it; the time users last confirmed each copy
 * (200 or 304), for stale-if-error at the level of the call, where timeouts, an open circuit or a
 * full bulkhead happen without any response to carry `stale-if-error`; dropping the copy of a
 * user users no longer knows (an erasure); and forgetting copies nobody asked for in a while, so
 * names and emails do not linger in memory.
 */
@Injectable()
export class UsersCache implements OnModuleDestroy {
  private readonly store?: InstanceType<typeof cacheStores.MemoryCacheStore>;
  /** When users last confirmed each copy, by request path, oldest first. */
  private readonly confirmed = new Map<string, number>();
  private readonly origin: string;
  /** The path of a user, `/users/<id>` under the users service's prefix. */
  private readonly userPath: (id: number) => string;
  private readonly staleForMs: number;
  private readonly maxEntries: number;
  private readonly sweeping?: NodeJS.Timeout;

  /** The clock copies are dated by; tests set it. */
  now: () => number = Date.now;

  constructor(settings: UsersClientSettings) {
    const { origin, pathPrefix } = usersLocation(settings);
    this.origin = origin;
    this.userPath = (id) => `${pathPrefix}/users/${id}`;
    this.staleForMs = settings.USERS_STALE_IF_ERROR_S * 1000;
    this.maxEntries = settings.USERS_CACHE_MAX_ENTRIES;
    if (this.maxEntries === 0) return;
    this.store = new cacheStores.MemoryCacheStore({
      maxCount: settings.USERS_CACHE_MAX_ENTRIES,
      maxSize: settings.USERS_CACHE_MAX_ENTRIES * MAX_ENTRY_BYTES,
      maxEntrySize: MAX_ENTRY_BYTES,
    });
    this.sweeping = setInterval(
      () => this.forgetUnconfirmed(),
      SWEEP_EVERY_MS,
    ).unref();
  }

  /**
   * What to compose on the connection pool, innermost first: below undici's cache, the piece that
   * watches users' answers (and puts orders' token on the wire), then the cache itself. The token
   * is kept out of the cache's sight: every call carries orders' own identity, so the copies are
   * orders' alone, and a cache that saw `Authorization` would refuse to store them.
   */
  interceptors(): Interceptor[] {
    if (!this.store) return [withBearer];
    return [
      this.watchAnswers,
      interceptors.cache({
        store: this.store,
        methods: ['GET'],
        type: 'private',
      }),
    ];
  }

  /**
   * The copy users last confirmed of the user, if it did within USERS_STALE_IF_ERROR_S: what a
   * failed call may show instead.
   */
  confirmedCopy(id: number): ConfirmedCopy | undefined {
    const path = this.userPath(id);
    const confirmedAt = this.confirmed.get(path);
    if (!this.store || confirmedAt === undefined) return undefined;
    const confirmedMsAgo = this.now() - confirmedAt;
    if (confirmedMsAgo > this.staleForMs) return undefined;
    const stored = this.store.get({ origin: this.origin, method: 'GET', path });
    // The memory store answers at once, its body the chunks it was given.
    if (!stored || 'then' in stored || !Array.isArray(stored.body))
      return undefined;
    return {
      body: Buffer.concat(
        stored.body.map((chunk) => Buffer.from(chunk)),
      ).toString(),
      confirmedMsAgo,
    };
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeping);
  }

  private readonly watchAnswers: Interceptor =
    (dispatch) => (options, handler) =>
      withBearer(dispatch)(
        options,
        // Copies are of users; a readiness probe and the like pass unwatched.
        /\/users\/\d+$/.test(options.path)
          ? this.watched(options.path, handler)
          : handler,
      );

  /**
   * The handler, seeing users' answer to a GET of a user before the cache does. Confirmed only
   * once the whole answer has arrived: one cut short leaves the copy as it was, and its age too.
   */
  private watched(path: string, handler: Handler): Handler {
    let status = 0;
    return {
      ...forwarding(handler),
      onResponseStart: (controller, code, headers, message) => {
        status = code;
        if (code === 404 || code === 410) this.forget(path);
        const kept = onlyKept(headers);
        return handler.onResponseStart?.(
          controller,
          code,
          code === 304 ? freshening(kept) : kept,
          message,
        );
      },
      onResponseEnd: (controller, trailers) => {
        if (status === 200 || status === 304) this.confirm(path);
        return handler.onResponseEnd?.(controller, trailers);
      },
    };
  }

  private confirm(path: string): void {
    // Re-inserted, so the map stays in order of confirmation for the sweep.
    this.confirmed.delete(path);
    this.confirmed.set(path, this.now());
    if (this.confirmed.size > this.maxEntries)
      this.forget(this.confirmed.keys().next().value!);
  }

  private forget(path: string): void {
    this.confirmed.delete(path);
    void this.store?.delete({ origin: this.origin, method: 'GET', path });
  }

  /**
   * Forgets the copies users has not confirmed for the stale window (at least a minute): past it
   * they serve nothing, and names and emails should not linger. Every half minute.
   */
  forgetUnconfirmed(): void {
    const before = this.now() - Math.max(this.staleForMs, MIN_RETENTION_MS);
    for (const [path, confirmedAt] of this.confirmed) {
      if (confirmedAt > before) return;
      this.forget(path);
    }
  }
}

/** Puts orders' token, passed past the cache under BEARER, on the request that goes out. */
const withBearer: Interceptor = (dispatch) => (options, handler) => {
  const token: unknown = Reflect.get(options, BEARER);
  const { headers } = options;
  if (typeof token !== 'string') return dispatch(options, handler);
  // UsersConnectionPool sends headers as a plain object; the cache keeps them one.
  if (!isHeaderObject(headers))
    throw new Error('A request to users carries its headers as an object');
  return dispatch(
    { ...options, headers: { ...headers, authorization: token } },
    handler,
  );
};

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

/** A handler that passes every event on to `handler`. */
function forwarding(handler: Handler): Handler {
  return {
    onRequestStart: (controller, context) =>
      handler.onRequestStart?.(controller, context),
    onRequestUpgrade: (controller, status, headers, socket) =>
      handler.onRequestUpgrade?.(controller, status, headers, socket),
    onResponseStart: (controller, status, headers, message) =>
      handler.onResponseStart?.(controller, status, headers, message),
    onResponseData: (controller, chunk) =>
      handler.onResponseData?.(controller, chunk),
    onResponseEnd: (controller, trailers) =>
      handler.onResponseEnd?.(controller, trailers),
    onResponseError: (controller, error) =>
      handler.onResponseError?.(controller, error),
  };
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

function isHeaderObject(
  headers: Dispatcher.DispatchOptions['headers'],
): headers is Record<string, string | string[] | undefined> {
  return (
    typeof headers === 'object' &&
    headers !== null &&
    !Array.isArray(headers) &&
    !(Symbol.iterator in headers)
  );
}
