import { Injectable } from '@nestjs/common';
import { ServiceConfig } from '../service.config';

interface Pending {
  state: 'pending';
  fingerprint: string;
  expiresAt: number;
}

interface Done {
  state: 'done';
  fingerprint: string;
  expiresAt: number;
  status: number;
  body: unknown;
}

type Entry = Pending | Done;

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
  /** Forgets a claimed key whose request failed, so that it can be tried again. */
  abstract release(key: string, claimed: object): Promise<void>;
  /**
   * Forgets expired keys and the oldest beyond the bound. A store may do this as it goes (the
   * in-memory one does) or now and then (the PostgreSQL one, every minute).
   */
  abstract purge(): Promise<void>;
}

/** Keys in process memory. Claiming is synchronous inside, so no other request runs in between. */
@Injectable()
export class InMemoryIdempotencyStore extends IdempotencyStore {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly maxKeys: number;

  constructor(
    config: ServiceConfig,
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.ttlMs = config.IDEMPOTENCY_TTL_MS;
    this.maxKeys = config.IDEMPOTENCY_MAX_KEYS;
  }

  get size(): number {
    return this.entries.size;
  }

  async claim(key: string, fingerprint: string): Promise<Claim> {
    this.forgetExpired();
    const found = this.entries.get(key);
    if (found) {
      if (found.fingerprint !== fingerprint) return { kind: 'mismatch' };
      return found.state === 'pending'
        ? { kind: 'in-progress' }
        : { kind: 'replay', status: found.status, body: found.body };
    }
    const entry: Pending = {
      state: 'pending',
      fingerprint,
      expiresAt: this.now() + this.ttlMs,
    };
    this.entries.set(key, entry);
    while (this.entries.size > this.maxKeys) {
      this.entries.delete(this.entries.keys().next().value!);
    }
    return { kind: 'new', entry };
  }

  async complete(
    key: string,
    claimed: object,
    status: number,
    body: unknown,
  ): Promise<void> {
    const entry = this.entries.get(key);
    if (entry !== claimed) return;
    this.entries.set(key, { ...entry, state: 'done', status, body });
  }

  async release(key: string, claimed: object): Promise<void> {
    if (this.entries.get(key) === claimed) this.entries.delete(key);
  }

  async purge(): Promise<void> {
    this.forgetExpired();
  }

  // Entries all live equally long, so insertion order is expiry order: the expired are in front.
  private forgetExpired(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) return;
      this.entries.delete(key);
    }
  }
}
