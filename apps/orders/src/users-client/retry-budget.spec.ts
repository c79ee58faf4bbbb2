import { RetryBudget, RetryBudgetOptions } from './retry-budget';

describe('RetryBudget', () => {
  let now: number;
  /** When the budget said its refusals began. */
  let spells: number[];

  /** A budget on the test's clock, over a 10 s window, as orders runs it unless told otherwise. */
  function budget(options: Partial<RetryBudgetOptions> = {}): RetryBudget {
    return new RetryBudget({
      percent: 20,
      minRetriesPerS: 1,
      windowMs: 10_000,
      now: () => now,
      onRefusalsBegin: () => spells.push(now),
      ...options,
    });
  }

  /** How many retries in a row the budget allows, up to `most`. */
  function retriesAllowed(retries: RetryBudget, most = 1000): number {
    let allowed = 0;
    while (allowed < most && retries.tryRetry()) allowed++;
    return allowed;
  }

  function calls(retries: RetryBudget, count: number): void {
    for (let i = 0; i < count; i++) retries.recordCall();
  }

  beforeEach(() => {
    now = 0;
    spells = [];
  });

  it('retries a lone failure on a quiet caller: the reserve is one retry a second of the window', () => {
    const retries = budget();
    retries.recordCall();
    // 10 of the reserve; the call's 20% of a retry does not make an 11th.
    expect(retriesAllowed(retries)).toBe(10);
  });

  it('allows the share of the calls in the window beyond the reserve, and not one more', () => {
    const retries = budget();
    calls(retries, 100);
    expect(retriesAllowed(retries)).toBe(10 + 20);
    calls(retries, 4);
    expect(retries.tryRetry()).toBe(false);
    retries.recordCall();
    expect(retries.tryRetry()).toBe(true);
    expect(retries.tryRetry()).toBe(false);
  });

  it('takes the percentage as given: 0 leaves the reserve, 100 one retry a call', () => {
    const none = budget({ percent: 0 });
    calls(none, 1000);
    expect(retriesAllowed(none)).toBe(10);
    const all = budget({ percent: 100, minRetriesPerS: 0 });
    calls(all, 7);
    expect(retriesAllowed(all)).toBe(7);
  });

  it('holds a caller whose every call fails to its share: 1000 calls wanting 2 retries each get 210', () => {
    const retries = budget();
    let sent = 0;
    // A call every 10 ms, all within one window.
    for (let call = 0; call < 1000; call++, now += 10) {
      retries.recordCall();
      for (let retry = 0; retry < 2 && retries.tryRetry(); retry++) sent++;
    }
    expect(sent).toBe(10 + 200);
  });

  it('forgets retries once they leave the window', () => {
    const retries = budget();
    expect(retriesAllowed(retries)).toBe(10);
    now = 9_999;
    expect(retries.tryRetry()).toBe(false);
    now = 10_000;
    expect(retriesAllowed(retries)).toBe(10);
  });

  it('forgets calls once they leave the window: their share goes with them', () => {
    const retries = budget({ minRetriesPerS: 0 });
    calls(retries, 50);
    now = 9_999;
    expect(retries.tryRetry()).toBe(true);
    now = 10_000;
    expect(retries.tryRetry()).toBe(false);
  });

  it('slides: what came half a window ago still counts when the oldest has left', () => {
    const retries = budget({ minRetriesPerS: 0 });
    calls(retries, 50);
    now = 5_000;
    calls(retries, 50);
    expect(retriesAllowed(retries)).toBe(20);
    now = 10_000;
    // The first 50 calls are gone, and so are no retries: all 20 were spent at 5 s.
    expect(retries.tryRetry()).toBe(false);
    now = 15_000;
    // Now the second 50 and the 20 retries have left too; 10 new calls give 2.
    calls(retries, 10);
    expect(retriesAllowed(retries)).toBe(2);
  });

  it('forgets everything after a long quiet spell, however long', () => {
    const retries = budget();
    calls(retries, 100);
    expect(retriesAllowed(retries)).toBe(30);
    now = 3_600_000 + 123;
    expect(retriesAllowed(retries)).toBe(10);
  });

  it('says when refusals begin: once a spell, however they alternate with allowed retries', () => {
    const retries = budget({ minRetriesPerS: 0 });
    // A caller failing every call, each wanting a retry: one in five is allowed, the rest refused.
    for (let call = 0; call < 100; call++, now += 50) {
      retries.recordCall();
      retries.tryRetry();
    }
    expect(spells).toEqual([0]);
    // The last refusal was at 4.9 s (the 100th call's retry was allowed): 9.9 s later, it goes on.
    now = 14_800;
    expect(retries.tryRetry()).toBe(false);
    expect(spells).toEqual([0]);
    // Ten seconds without a refusal end it; the next refusal begins another.
    now = 24_800;
    expect(retries.tryRetry()).toBe(false);
    expect(spells).toEqual([0, 24_800]);
  });
});
