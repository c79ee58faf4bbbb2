import type { Page, PageRequest } from '@app/contracts';
import type { Database } from '@app/storage';
import type { Migration } from 'kysely/migration';
import { migratedTestDatabase } from '../stand-ins/database';

type WithId = { id: number };

/** What every repository of every app does, whatever it stores. */
export interface ContractRepository<T extends WithId, New> {
  create(values: New): Promise<T>;
  findById(id: number): Promise<T | undefined>;
  list(page: PageRequest): Promise<Page<T>>;
}

/** A repository on a fresh store, another on the same data (another replica), and a way out. */
export interface StoreFixture<R> {
  repository: R;
  another(): R;
  close(): Promise<void>;
}

export type OpenStore<R> = () => Promise<StoreFixture<R>>;

/** A store in process memory: one process, so "another replica" is the same repository. */
export function inMemoryStore<R>(make: () => R): OpenStore<R> {
  return async () => {
    const repository = make();
    return { repository, another: () => repository, close: async () => {} };
  };
}

/** A store on a fresh, migrated PostgreSQL database; `another()` shares the pool's database. */
export function postgresStore<R, DB>(
  migrations: Record<string, Migration>,
  make: (database: Database<DB>) => R,
): OpenStore<R> {
  return async () => {
    const db = await migratedTestDatabase<DB>(migrations);
    return {
      repository: make(db.database),
      another: () => make(db.database),
      close: () => db.close(),
    };
  };
}

export interface RepositoryContract<
  T extends WithId,
  New,
  R extends ContractRepository<T, New>,
> {
  /** Every store of the repository, by name: each runs the whole contract. */
  stores: Record<string, OpenStore<R>>;
  /** The records a fresh store holds, in id order from 1. */
  seed: T[];
  /** A valid new record, distinct for each `n`. */
  newRecord: (n: number) => New;
}

/**
 * The contract every repository keeps, run against each of its stores: the seed is there; ids are
 * handed out in order, never reused, distinct and gapless under concurrent creates from several
 * replicas; lists come in id order a page at a time with the total; callers get copies. `more`
 * adds what only this repository promises, against the same stores.
 */
export function describeRepositoryContract<
  T extends WithId,
  New,
  R extends ContractRepository<T, New>,
>(
  contract: RepositoryContract<T, New, R>,
  more: (store: () => StoreFixture<R>) => void = () => {},
): void {
  const { seed, newRecord } = contract;
  const next = seed.length + 1;

  describe.each(Object.entries(contract.stores))('%s', (_name, open) => {
    let fixture: StoreFixture<R>;
    const repository = () => fixture.repository;

    beforeEach(async () => {
      fixture = await open();
    });

    afterEach(() => fixture.close());

    it('starts with the seed records', async () => {
      for (const record of seed)
        await expect(repository().findById(record.id)).resolves.toEqual(record);
    });

    it('returns undefined for an unknown id', async () => {
      await expect(repository().findById(next)).resolves.toBeUndefined();
    });

    it('hands out the next id to a new record, and finds it by that id', async () => {
      const created = await repository().create(newRecord(0));
      expect(created.id).toBe(next);
      await expect(repository().findById(next)).resolves.toEqual(created);
    });

    it('never reuses an id', async () => {
      const ids = [];
      for (let n = 0; n < 5; n++)
        ids.push((await repository().create(newRecord(n))).id);
      expect(ids).toEqual([0, 1, 2, 3, 4].map((n) => next + n));
    });

    it('lists records in id order, one page at a time, with the total', async () => {
      const created = await repository().create(newRecord(0));
      const all = [...seed, created];
      await expect(repository().list({ limit: 2, offset: 1 })).resolves.toEqual(
        { items: all.slice(1, 3), total: all.length },
      );
      await expect(
        repository().list({ limit: 10, offset: all.length + 2 }),
      ).resolves.toEqual({ items: [], total: all.length });
    });

    it('gives concurrent creates on several replicas distinct, gapless ids', async () => {
      const created = await Promise.all(
        Array.from({ length: 20 }, (_, n) =>
          fixture.another().create(newRecord(n)),
        ),
      );
      expect(created.map((record) => record.id).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 20 }, (_, n) => next + n),
      );
    });

    it('hands out copies, so a caller cannot change what is stored', async () => {
      const stored = seed[0] ?? (await repository().create(newRecord(0)));
      const copy = await repository().findById(stored.id);
      for (const key of Object.keys(copy!))
        if (typeof Reflect.get(copy!, key) === 'string')
          Reflect.set(copy!, key, 'Mallory');
      await expect(repository().findById(stored.id)).resolves.toEqual(stored);
    });

    more(() => fixture);
  });
}
