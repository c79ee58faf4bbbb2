import { ServiceConfig } from '../service.config';
import { IdempotencyStore } from './idempotency.store';

describe('IdempotencyStore', () => {
  let now: number;
  const store = (ttlMs = 1000, maxKeys = 3) =>
    new IdempotencyStore(
      Object.assign(new ServiceConfig(), {
        IDEMPOTENCY_TTL_MS: ttlMs,
        IDEMPOTENCY_MAX_KEYS: maxKeys,
      }),
      () => now,
    );

  beforeEach(() => {
    now = 0;
  });

  it('lets the first claim of a key go ahead and replays it once completed', () => {
    const s = store();
    const claim = s.claim('k', 'f');
    expect(claim.kind).toBe('new');
    expect(s.claim('k', 'f')).toEqual({ kind: 'in-progress' });
    s.complete('k', (claim as { entry: object }).entry, 201, { id: 1 });
    expect(s.claim('k', 'f')).toEqual({
      kind: 'replay',
      status: 201,
      body: { id: 1 },
    });
  });

  it('refuses the key for another request, running or done', () => {
    const s = store();
    const claim = s.claim('k', 'f') as { entry: object };
    expect(s.claim('k', 'other')).toEqual({ kind: 'mismatch' });
    s.complete('k', claim.entry, 201, {});
    expect(s.claim('k', 'other')).toEqual({ kind: 'mismatch' });
  });

  it('frees a released key for another try', () => {
    const s = store();
    const claim = s.claim('k', 'f') as { entry: object };
    s.release('k', claim.entry);
    expect(s.claim('k', 'other').kind).toBe('new');
  });

  it('forgets keys after the TTL', () => {
    const s = store(1000);
    const claim = s.claim('k', 'f') as { entry: object };
    s.complete('k', claim.entry, 201, {});
    now = 999;
    expect(s.claim('k', 'f').kind).toBe('replay');
    now = 1000;
    expect(s.claim('k', 'f').kind).toBe('new');
  });

  it('evicts the oldest keys beyond the bound', () => {
    const s = store(1000, 2);
    for (const key of ['a', 'b', 'c']) {
      const claim = s.claim(key, 'f') as { entry: object };
      s.complete(key, claim.entry, 201, key);
    }
    expect(s.size).toBe(2);
    expect(s.claim('a', 'f').kind).toBe('new');
    expect(s.claim('c', 'f')).toEqual({
      kind: 'replay',
      status: 201,
      body: 'c',
    });
  });

  it('ignores the completion of a claim evicted meanwhile', () => {
    const s = store(1000, 1);
    const first = s.claim('a', 'f') as { entry: object };
    s.claim('b', 'f');
    s.complete('a', first.entry, 201, 'late');
    expect(s.claim('a', 'f').kind).toBe('new');
  });
});
