import type { Page, PageRequest } from '@app/contracts';

/** A stored record: the id the table handed out, and the rest. */
export type Stored<T> = T & { id: number };

/** A value that must be unique among rows, such as an email ignoring case. */
export type UniqueKey<T> = (row: T) => string;

/** An insert that would repeat a unique value: nothing was stored and no id was used. */
export class UniqueViolation extends Error {
  override name = 'UniqueViolation';
  constructor(readonly index: string) {
    super(`${index} is taken`);
  }
}

/**
 * Records in process memory, as the seed's dictionaries were: ids handed out in order from 1 and
 * never again; copies in and out, so no caller can change what is stored; unique values kept in
 * an index. Every method is synchronous, so a check and the change it guards cannot be
 * interleaved with another request's.
 */
export class InMemoryTable<T extends object> {
  private readonly rows = new Map<number, Stored<T>>();
  private readonly indexes: {
    name: string;
    key: UniqueKey<T>;
    ids: Map<string, number>;
  }[];
  private lastId = 0;

  constructor(seed: T[] = [], unique: Record<string, UniqueKey<T>> = {}) {
    this.indexes = Object.entries(unique).map(([name, key]) => ({
      name,
      key,
      ids: new Map(),
    }));
    for (const row of seed) this.insert(row);
  }

  /** @throws UniqueViolation, having stored nothing. */
  insert(values: T): Stored<T> {
    for (const index of this.indexes)
      if (index.ids.has(index.key(values)))
        throw new UniqueViolation(index.name);
    const row = { id: ++this.lastId, ...values };
    this.rows.set(row.id, row);
    for (const index of this.indexes) index.ids.set(index.key(row), row.id);
    return { ...row };
  }

  /**
   * Changes a row if `where` holds for it now: the changed row, or undefined when there is no such
   * row or `where` does not hold. @throws UniqueViolation, having changed nothing.
   */
  update(
    id: number,
    changes: Partial<T>,
    where: (row: Stored<T>) => boolean = () => true,
  ): Stored<T> | undefined {
    const row = this.rows.get(id);
    if (!row || !where(row)) return undefined;
    const changed = { ...row, ...changes, id };
    for (const index of this.indexes) {
      const holder = index.ids.get(index.key(changed));
      if (holder !== undefined && holder !== id)
        throw new UniqueViolation(index.name);
    }
    for (const index of this.indexes) {
      index.ids.delete(index.key(row));
      index.ids.set(index.key(changed), id);
    }
    this.rows.set(id, changed);
    return { ...changed };
  }

  /**
   * Removes a row, and its values from every unique index, if `where` holds for it now; its id is
   * never handed out again. False when there is no such row or `where` does not hold.
   */
  delete(id: number, where: (row: Stored<T>) => boolean = () => true): boolean {
    const row = this.rows.get(id);
    if (!row || !where(row)) return false;
    for (const index of this.indexes) index.ids.delete(index.key(row));
    return this.rows.delete(id);
  }

  get(id: number): Stored<T> | undefined {
    const row = this.rows.get(id);
    return row && { ...row };
  }

  /** Rows in id order (a Map iterates in insertion order, which is id order here). */
  page(
    { limit, offset }: PageRequest,
    where?: (row: Stored<T>) => boolean,
  ): Page<Stored<T>> {
    const matching = where
      ? [...this.rows.values()].filter(where)
      : [...this.rows.values()];
    return {
      items: matching.slice(offset, offset + limit).map((row) => ({ ...row })),
      total: matching.length,
    };
  }
}
