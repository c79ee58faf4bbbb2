import type { Page, PageRequest } from '@app/contracts';
import type { Stores } from '@app/storage';
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

type OpenStore<R> = () => Promise<StoreFixture<R>>;

/**
 * Each store on fresh data: in process memory (one process, so "another replica" is the same
 * repository), and on a fresh, migrated PostgreSQL database (`another()` shares its pool).
 */
function openStores<R, DB>(
  stores: Stores<R, DB>,
  migrations: Record<string, Migration>,
): Record<string, OpenStore<R>> {
  return {
    'in memory': async () => {
      const repository = stores.memory();
      return { repository, another: () => repository, close: async () => {} };
    },
    PostgreSQL: async () => {
      const db = await migratedTestDatabase<DB>(migrations);
      return {
        repository: stores.postgres(db.database),
        another: () => stores.postgres(db.database),
        close: () => db.close(),
      };
    },
  };
}

export interface RepositoryContract<
  T extends WithId,
  New,
  R extends ContractRepository<T, New>,
  DB,
> {
  /** The repository's stores, as the app binds them: each runs the whole contract. */
  stores: Stores<R, DB>;
  /** The service's migrations, which a fresh PostgreSQL database is given. */
  migrations: Record<string, Migration>;
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
  DB,
>(
  contract: RepositoryContract<T, New, R, DB>,
  more: (store: () => StoreFixture<R>) => void = () => {},
): void {
  const { seed, newRecord } = contract;
  const next = seed.length + 1;

  describe.each(
    Object.entries(openStores(contract.stores, contract.migrations)),
  )('%s', (_name, open) => {
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
