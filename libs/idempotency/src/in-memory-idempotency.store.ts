import { Injectable, Logger } from '@nestjs/common';
import { Claim, IdempotencyStore } from './idempotency.store';
import { IdempotencySettings } from './idempotency.settings';

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

/** Keys in process memory. Claiming is synchronous inside, so no other request runs in between. */
@Injectable()
export class InMemoryIdempotencyStore extends IdempotencyStore {
  private readonly logger = new Logger(InMemoryIdempotencyStore.name);
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly maxKeys: number;

  constructor(
    settings: IdempotencySettings,
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.ttlMs = settings.IDEMPOTENCY_TTL_MS;
    this.maxKeys = settings.IDEMPOTENCY_MAX_KEYS;
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

  async runFirst(
    key: string,
    claimed: object,
    status: number,
    handler: () => Promise<unknown>,
  ): Promise<unknown> {
    let body: unknown;
    try {
      body = await handler();
    } catch (error) {
      await this.release(key, claimed);
      throw error;
    }
    // What the request stored stays whatever happens here, so it is answered even so.
    await this.complete(key, claimed, status, body).catch((error: Error) =>
      this.logger.warn(
        `Could not store the answer for an Idempotency-Key: ${error.message}`,
      ),
    );
    return body;
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

  async forgetAnswers(fields: Record<string, unknown>): Promise<void> {
    for (const [key, entry] of this.entries)
      if (entry.state === 'done' && holds(entry.body, fields))
        this.entries.delete(key);
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

function holds(body: unknown, fields: Record<string, unknown>): boolean {
  return (
    typeof body === 'object' &&
    body !== null &&
    Object.entries(fields).every(
      ([name, value]) => Reflect.get(body, name) === value,
    )
  );
}
