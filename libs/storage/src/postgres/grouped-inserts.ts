import type { Kysely } from 'kysely';
import type { Database } from './database';
import { StoreUnavailableError, toStoreError } from './errors';
import { SharedTransaction, UnitOfWork } from './unit-of-work';

/**
 * Writes rows of `items`, one each, in one statement; resolves with the rows in the order of the
 * items. It takes the ids from the table's counter (see `nextIds`).
 */
export type InsertMany<DB, Item, Row> = (
  db: Kysely<DB>,
  items: Item[],
) => Promise<Row[]>;

interface Entry<DB, Item, Row> {
  item: Item;
  unit?: UnitOfWork<DB>;
  resolve(row: Row): void;
  reject(error: unknown): void;
}

/** The most rows one statement writes. */
const MAX_GROUP = 100;

/**
 * Creates that arrive while a group is being written wait, and go together in the next one: one
 * statement, one lock of the id counter and one commit for all of them. Ids come from a counter
 * row held until the commit, so that they are gapless and commit in order; one create at a time
 * would make every create wait for the commit (the disk's flush) of the one before. A lone
 * create is written at once.
 *
 * A create in a unit of work (an `Idempotency-Key`'s request) gets its row before the commit, so
 * that its answer can be stored in the same transaction: the group's transaction is shared by
 * its units and commits once they all have finished (see `SharedTransaction`). Creates outside a
 * unit are answered after the commit. When the statement fails (one email already taken refuses
 * all the rows), each create is written again alone, to get its own answer.
 */
export class GroupedInserts<DB, Item, Row> {
  private readonly waiting: Entry<DB, Item, Row>[] = [];
  private writing = false;

  constructor(
    private readonly database: Database<DB>,
    private readonly insertMany: InsertMany<DB, Item, Row>,
  ) {}

  add(item: Item): Promise<Row> {
    const unit = this.database.unit;
    // A unit that has a transaction already writes there, not in a group that would wait for it.
    if (unit?.begun)
      return this.database.run(async (db) => {
        const [row] = await this.insertMany(db, [item]);
        return row;
      });
    return new Promise<Row>((resolve, reject) => {
      this.waiting.push({ item, unit, resolve, reject });
      this.writeNext();
    });
  }

  private writeNext(): void {
    if (this.writing || this.waiting.length === 0) return;
    this.writing = true;
    const group = this.waiting.splice(0, MAX_GROUP);
    void this.write(group).finally(() => {
      this.writing = false;
      this.writeNext();
    });
  }

  private async write(group: Entry<DB, Item, Row>[]): Promise<void> {
    const items = group.map((entry) => entry.item);
    if (!group.some((entry) => entry.unit)) {
      let rows: Row[];
      try {
        rows = await this.database.run((db) => this.insertMany(db, items));
      } catch (error) {
        return this.oneByOne(group, error);
      }
      group.forEach((entry, i) => entry.resolve(rows[i]));
      return;
    }
    try {
      const transaction = await this.database.kysely
        .startTransaction()
        .execute();
      let rows: Row[];
      try {
        rows = await this.insertMany(transaction, items);
      } catch (error) {
        await transaction
          .rollback()
          .execute()
          .catch(() => undefined);
        return this.oneByOne(group, error);
      }
      const units = group.filter((entry) => entry.unit);
      const shared = new SharedTransaction(transaction, units.length);
      group.forEach((entry, i) => {
        if (!entry.unit) return;
        entry.unit.join(shared);
        entry.resolve(rows[i]);
      });
      const outcome = await shared.end(this.database.statementTimeoutMs);
      const plain = group.filter((entry) => !entry.unit);
      if (outcome === 'committed')
        plain.forEach((entry) => entry.resolve(rows[group.indexOf(entry)]));
      // Rolled back because a unit failed: nothing of these creates stayed; they go again, first.
      else if (outcome === 'rolled-back') this.waiting.unshift(...plain);
      else {
        const lost = new StoreUnavailableError(
          'the commit of its transaction failed',
        );
        plain.forEach((entry) => entry.reject(lost));
      }
    } catch (error) {
      group.forEach((entry) => entry.reject(toStoreError(error)));
    }
  }

  private async oneByOne(
    group: Entry<DB, Item, Row>[],
    error: unknown,
  ): Promise<void> {
    const mapped = toStoreError(error);
    if (group.length === 1 || mapped instanceof StoreUnavailableError) {
      group.forEach((entry) => entry.reject(mapped));
      return;
    }
    for (const entry of group) await this.write([entry]);
  }
}
