/** The window slides by tenths: a slice is forgotten as a whole once it is older than the window. */
const SLICES = 10;

/**
 * A retry the budget had no room for: the call ends with the failure before it (`failure`). A
 * retry policy that does not handle this error gives up at once, without waiting out a backoff.
 */
export class RetryRefusedError extends Error {
  constructor(readonly failure: unknown) {
    super('Retry refused: the retry budget is spent');
    this.name = 'RetryRefusedError';
  }
}

export interface RetryBudgetOptions {
  /** Retries allowed as a share of the calls begun in the window, in percent (0 to 100). */
  percent: number;
  /** Retries allowed in the window whatever the calls, spread as this many a second. */
  minRetriesPerS: number;
  /** How long a call or a retry counts. */
  windowMs: number;
  /** Milliseconds on a clock that never goes back; a test passes its own. */
  now?: () => number;
  /**
   * Told of a refusal after a whole window without one: a spell of refusals begins. Once a spell,
   * not once a refusal, as a busy caller's refusals and retries alternate call by call.
   */
  onRefusalsBegin?: () => void;
}

/**
 * How many retries a caller may send: over the last `windowMs`, at most `percent` of the calls it
 * began, plus a reserve of `minRetriesPerS` a second of the window, whatever the calls. As
 * Finagle's RetryBudget, Envoy's retry budgets and gRPC's retry throttling do: a peer failing
 * every call receives at most (100 + percent)% of them, plus the reserve, rather than every
 * attempt of every call; and a peer that fails one call in a while still has that call retried, which is what
 * the reserve is for, as a quiet caller's 20% of few calls would be no retry at all.
 *
 * Counts are kept per tenth of the window, so the window is between nine and ten tenths of
 * `windowMs` long, and what a call costs, in memory and time, is the same at any rate. Integer arithmetic: a share of
 * a retry in floating point could let one more through, or one fewer, than the rule says.
 */
export class RetryBudget {
  private readonly calls = Array.from({ length: SLICES }, () => 0);
  private readonly retries = Array.from({ length: SLICES }, () => 0);
  private callsInWindow = 0;
  private retriesInWindow = 0;
  private readonly sliceMs: number;
  /** The reserve, in hundredths of a retry, as `percent` of one call is. */
  private readonly reserve: number;
  private readonly percent: number;
  private readonly now: () => number;
  private readonly windowMs: number;
  private readonly onRefusalsBegin: () => void;
  private lastRefusalAt = -Infinity;
  /** The latest slice counted in, numbered from the clock's origin. */
  private slice: number;

  constructor(options: RetryBudgetOptions) {
    this.percent = options.percent;
    this.windowMs = options.windowMs;
    this.sliceMs = options.windowMs / SLICES;
    this.reserve =
      Math.round((options.minRetriesPerS * options.windowMs) / 1000) * 100;
    this.now = options.now ?? (() => performance.now());
    this.onRefusalsBegin = options.onRefusalsBegin ?? (() => undefined);
    this.slice = this.sliceAt(this.now());
  }

  /** A call begins: `percent` hundredths of a retry more for the window. */
  recordCall(): void {
    const index = this.advance();
    this.calls[index] += 1;
    this.callsInWindow += 1;
  }

  /** Whether a failed call may be retried now; when it may, the retry is spent. */
  tryRetry(): boolean {
    const index = this.advance();
    const room = this.reserve + this.percent * this.callsInWindow;
    const allowed = (this.retriesInWindow + 1) * 100 <= room;
    if (allowed) {
      this.retries[index] += 1;
      this.retriesInWindow += 1;
      return true;
    }
    const now = this.now();
    if (now - this.lastRefusalAt >= this.windowMs) this.onRefusalsBegin();
    this.lastRefusalAt = now;
    return false;
  }

  private sliceAt(ms: number): number {
    return Math.floor(ms / this.sliceMs);
  }

  /** Forgets the slices that left the window since the last call; the current slice's index. */
  private advance(): number {
    const current = this.sliceAt(this.now());
    // Every slice after the latest one counted, up to the current one, now holds counts from a
    // window ago (or none): at most the whole ring is cleared, however long it has been.
    for (
      let slice = Math.max(this.slice + 1, current - SLICES + 1);
      slice <= current;
      slice++
    ) {
      const index = slice % SLICES;
      this.callsInWindow -= this.calls[index];
      this.retriesInWindow -= this.retries[index];
      this.calls[index] = 0;
      this.retries[index] = 0;
    }
    this.slice = Math.max(this.slice, current);
    return this.slice % SLICES;
  }
}
