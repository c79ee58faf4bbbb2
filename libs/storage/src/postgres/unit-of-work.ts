import type { ControlledTransaction, Kysely } from 'kysely';
import { StoreUnavailableError } from './errors';

/** How a transaction that several units shared ended. */
export type SharedOutcome = 'committed' | 'rolled-back' | 'unknown';

/**
 * A transaction that several units of work share: the creates of concurrent requests, written by
 * one statement (see `GroupedInserts`). It commits once every unit in it has finished, and rolls
 * back when any of them fails or does not finish in time: their records and their answers go
 * together or not at all.
 */
export class SharedTransaction<DB> {
  private waiting: number;
  private failed = false;
  /** Committed or rolled back: its members can run nothing more in it. */
  ended = false;
  private allIn!: () => void;
  private readonly everyoneIn = new Promise<void>(
    (resolve) => (this.allIn = resolve),
  );
  private decide!: (outcome: SharedOutcome) => void;
  /** How it ended; what each unit that finished waits for before it answers. */
  readonly outcome = new Promise<SharedOutcome>(
    (resolve) => (this.decide = resolve),
  );

  constructor(
    readonly transaction: ControlledTransaction<DB>,
    members: number,
  ) {
    this.waiting = members;
    if (members === 0) this.allIn();
  }

  /** A member is done: every statement of it ran (`finished`), or it failed. */
  report(finished: boolean): void {
    if (!finished) this.failed = true;
    if (--this.waiting === 0) this.allIn();
  }

  /**
   * Waits for every member, `limitMs` at most, then commits or rolls back. `unknown` when the
   * commit itself failed: the server may or may not have committed.
   */
  async end(limitMs: number): Promise<SharedOutcome> {
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      this.everyoneIn.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(resolve, limitMs, false);
      }),
    ]);
    clearTimeout(timer);
    this.ended = true;
    let outcome: SharedOutcome = 'rolled-back';
    if (inTime && !this.failed) {
      outcome = await this.transaction
        .commit()
        .execute()
        .then(
          () => 'committed' as const,
          () => 'unknown' as const,
        );
    } else {
      await this.transaction
        .rollback()
        .execute()
        .catch(() => undefined);
    }
    this.decide(outcome);
    return outcome;
  }
}

/**
 * The statements of one request that must commit together: the record it creates and the answer
 * stored for its `Idempotency-Key`. The first statement begins the unit's transaction, or the
 * unit joins the one its create is grouped into; see `Database.unitOfWork`.
 */
export class UnitOfWork<DB> {
  private transaction?: ControlledTransaction<DB>;
  private beginning?: Promise<ControlledTransaction<DB>>;
  private shared?: SharedTransaction<DB>;

  constructor(private readonly kysely: Kysely<DB>) {}

  /** Whether it has a transaction, or is beginning one: its next statements run there. */
  get begun(): boolean {
    return this.beginning !== undefined || this.transaction !== undefined;
  }

  /** Its transaction: the shared one it joined, or its own, begun now if need be. */
  async current(): Promise<ControlledTransaction<DB>> {
    this.stillOpen();
    if (this.transaction) return this.transaction;
    this.beginning ??= this.kysely.startTransaction().execute();
    this.transaction = await this.beginning;
    return this.transaction;
  }

  /** Joins a transaction shared with other units; it must not have begun one of its own. */
  join(shared: SharedTransaction<DB>): void {
    this.shared = shared;
    this.transaction = shared.transaction;
  }

  /** Where `finish` runs: its transaction, or, when it wrote nothing, no transaction at all. */
  get finishing(): Kysely<DB> {
    this.stillOpen();
    return this.transaction ?? this.kysely;
  }

  private stillOpen(): void {
    if (this.shared?.ended)
      throw new StoreUnavailableError(
        'its transaction ended before it finished (it shared it with other requests, and waited too long)',
      );
  }

  /** Commits, or waits for the shared transaction to; throws when it did not. */
  async commit(): Promise<void> {
    if (this.shared) {
      this.shared.report(true);
      const outcome = await this.shared.outcome;
      if (outcome !== 'committed')
        throw new Error(
          outcome === 'unknown'
            ? 'the commit of its transaction failed'
            : 'another request in its transaction failed; nothing was stored',
        );
      return;
    }
    await this.transaction?.commit().execute();
  }

  /** Nothing of it stays: its own transaction rolls back, a shared one is told it failed. */
  async abandon(): Promise<void> {
    if (this.shared) {
      this.shared.report(false);
      await this.shared.outcome;
      return;
    }
    const transaction =
      this.transaction ?? (await this.beginning?.catch(() => undefined));
    await transaction
      ?.rollback()
      .execute()
      .catch(() => undefined);
  }
}
