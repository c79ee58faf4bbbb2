import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { cacheStores, type Dispatcher, interceptors } from 'undici';
import { UsersClientSettings, UsersEndpoint } from './users-client.settings';
import { watchedAnswer } from './users-answer.handler';

/** Copies are tiny (a name and an email); this bounds the bytes as the count bounds the entries. */
const MAX_ENTRY_BYTES = 16 * 1024;
/** Forgotten this long after users last confirmed them, if the stale window is not longer. */
const MIN_RETENTION_MS = 60_000;
const SWEEP_EVERY_MS = 30_000;

type Interceptor = Dispatcher.DispatcherComposeInterceptor;

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
  private readonly staleForMs: number;
  private readonly maxEntries: number;
  private readonly sweeping?: NodeJS.Timeout;

  /** The clock copies are dated by; tests set it. */
  now: () => number = Date.now;

  constructor(
    settings: UsersClientSettings,
    private readonly endpoint: UsersEndpoint,
  ) {
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
   * What to compose on the connection to users, innermost first: the piece that watches users'
   * answers, then undici's cache. Nothing when copies are off (USERS_CACHE_MAX_ENTRIES=0).
   */
  interceptors(): Interceptor[] {
    if (!this.store) return [];
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
    const path = this.endpoint.userPath(id);
    const confirmedAt = this.confirmed.get(path);
    if (!this.store || confirmedAt === undefined) return undefined;
    const confirmedMsAgo = this.now() - confirmedAt;
    if (confirmedMsAgo > this.staleForMs) return undefined;
    const stored = this.store.get({
      origin: this.endpoint.origin,
      method: 'GET',
      path,
    });
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
      dispatch(
        options,
        // Copies are of users; a readiness probe and the like pass unwatched.
        this.endpoint.isUserPath(options.path)
          ? watchedAnswer(handler, {
              confirm: () => this.confirm(options.path),
              forget: () => this.forget(options.path),
            })
          : handler,
      );

  private confirm(path: string): void {
    // Re-inserted, so the map stays in order of confirmation for the sweep.
    this.confirmed.delete(path);
    this.confirmed.set(path, this.now());
    if (this.confirmed.size > this.maxEntries)
      this.forget(this.confirmed.keys().next().value!);
  }

  private forget(path: string): void {
    this.confirmed.delete(path);
    void this.store?.delete({
      origin: this.endpoint.origin,
      method: 'GET',
      path,
    });
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
