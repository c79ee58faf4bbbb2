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
 * The key was taken over while its request ran: its lease lapsed and a retry of the same request
 * took it. Nothing of this run stayed; the other run answers the key.
 */
export class ClaimLostError extends Error {
  override name = 'ClaimLostError';
  constructor(readonly key: string) {
    super(`The Idempotency-Key ${key} was taken over while its request ran`);
  }
}

/**
 * The keys this app has seen, with the responses they got: bounded in count (oldest first out)
 * and in time. Of two concurrent claims of one key exactly one goes ahead.
 */
export abstract class IdempotencyStore {
  abstract claim(key: string, fingerprint: string): Promise<Claim>;
  /**
   * Runs the first request of a claimed key (`handler`) and remembers its answer (`status`, and
   * the body it resolves with), then resolves with the body. A store in the service's database
   * stores the answer in the same transaction as what the request wrote, so that a replica that
   * dies at any point leaves both or neither: a retry replays the answer, or runs the request
   * as if for the first time. A request that fails frees its key for another try.
   * @throws ClaimLostError when the key was taken over meanwhile; nothing of this run stays.
   */
  abstract runFirst(
    key: string,
    claimed: object,
    status: number,
    handler: () => Promise<unknown>,
  ): Promise<unknown>;
  /** Remembers the response of a claimed key, unless the claim was lost meanwhile. */
  abstract complete(
    key: string,
    claimed: object,
    status: number,
    body: unknown,
  ): Promise<void>;
  /**
   * Forgets a claimed key whose request failed, so that it can be tried again; a claim lost
   * meanwhile (expired, taken over), or already answered, stays as it is.
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
