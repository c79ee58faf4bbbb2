export type Claim =
  /** First use of the key: go ahead, then `complete` or `release` with this entry. */
  | { kind: 'new'; entry: object }
  /** Same key, same request, already answered: send this again. */
  | { kind: 'replay'; status: number; body: unknown }
  /** Same key, same request, still running. */
  | { kind: 'in-progress' }
  /** Same key, another request. */
  | { kind: 'mismatch' };

/**
 * The keys this app has seen, with the responses they got: bounded in count (oldest first out)
 * and in time. Of two concurrent claims of one key exactly one goes ahead.
 */
export abstract class IdempotencyStore {
  abstract claim(key: string, fingerprint: string): Promise<Claim>;
  /** Remembers the response of a claimed key, unless the claim was lost meanwhile. */
  abstract complete(
    key: string,
    claimed: object,
    status: number,
    body: unknown,
  ): Promise<void>;
  /**
   * Forgets a claimed key whose request failed, so that it can be tried again; a claim lost
   * meanwhile (expired, taken over) leaves the newer claim alone.
   */
  abstract release(key: string, claimed: object): Promise<void>;
  /**
   * Forgets every remembered answer whose body holds all of `fields`, with the request it
   * answered: when a record is erased (`{ user_id: 3 }`), nothing of how it was created stays.
   */
  abstract forgetAnswers(fields: Record<string, unknown>): Promise<void>;
  /**
   * Forgets expired keys and the oldest beyond the bound. A store may do this as it goes (the
   * in-memory one does) or now and then (the PostgreSQL one, every minute).
   */
  abstract purge(): Promise<void>;
}
