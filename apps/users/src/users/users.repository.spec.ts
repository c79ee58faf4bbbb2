import { migratedTestDatabase, MigratedTestDatabase } from '@app/testing';
import { InMemoryUsersRepository } from './in-memory-users.repository';
import { USERS_MIGRATIONS } from './migrations';
import { PostgresUsersRepository } from './postgres-users.repository';
import { EmailTakenError, UsersRepository } from './users.repository';

interface Store {
  repository: UsersRepository;
  /** The same data seen by another process: another repository on the same store. */
  another(): UsersRepository;
  close(): Promise<void>;
}

const stores: [string, () => Promise<Store>][] = [
  [
    'InMemoryUsersRepository',
    async () => {
      const repository = new InMemoryUsersRepository();
      return {
        repository,
        another: () => repository,
        close: async () => undefined,
      };
    },
  ],
  [
    'PostgresUsersRepository',
    async () => {
      const db: MigratedTestDatabase =
        await migratedTestDatabase(USERS_MIGRATIONS);
      return {
        repository: new PostgresUsersRepository(db.database),
        another: () => new PostgresUsersRepository(db.database),
        close: () => db.close(),
      };
    },
  ],
];

describe.each(stores)('%s', (_name, open) => {
  let store: Store;
  let repository: UsersRepository;

  beforeEach(async () => {
    store = await open();
    repository = store.repository;
  });

  afterEach(() => store.close());

  it('starts with the seed users Alice (1) and Bob (2)', async () => {
    await expect(repository.findById(1)).resolves.toEqual({
      id: 1,
      name: 'Alice',
      email: 'alice@example.com',
    });
    await expect(repository.findById(2)).resolves.toEqual({
      id: 2,
      name: 'Bob',
      email: 'bob@example.com',
    });
  });

  it('hands out the next id to a new user', async () => {
    const user = await repository.create({
      name: 'Charlie',
      email: 'charlie@example.com',
    });
    expect(user.id).toBe(3);
    await expect(repository.findById(3)).resolves.toEqual(user);
  });

  it('returns undefined for an unknown id', async () => {
    await expect(repository.findById(99)).resolves.toBeUndefined();
  });

  it('refuses an email that differs only in case, without consuming an id', async () => {
    await expect(
      repository.create({ name: 'Alice 2', email: 'ALICE@Example.com' }),
    ).rejects.toBeInstanceOf(EmailTakenError);
    const next = await repository.create({
      name: 'Dave',
      email: 'dave@example.com',
    });
    expect(next.id).toBe(3);
  });

  it('never reuses an id', async () => {
    const ids = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        (await repository.create({ name: `U${i}`, email: `u${i}@example.com` }))
          .id,
      );
    }
    expect(ids).toEqual([3, 4, 5, 6, 7]);
  });

  it('lists users in id order, one page at a time, with the total', async () => {
    await repository.create({ name: 'Charlie', email: 'charlie@example.com' });
    await expect(repository.list({ limit: 2, offset: 1 })).resolves.toEqual({
      items: [
        { id: 2, name: 'Bob', email: 'bob@example.com' },
        { id: 3, name: 'Charlie', email: 'charlie@example.com' },
      ],
      total: 3,
    });
    await expect(repository.list({ limit: 10, offset: 5 })).resolves.toEqual({
      items: [],
      total: 3,
    });
  });

  it('gives concurrent creates distinct, gapless ids', async () => {
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.another().create({ name: `U${i}`, email: `u${i}@example.com` }),
      ),
    );
    expect(created.map((user) => user.id).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 3),
    );
  });

  it('of concurrent creates of one email, stores exactly one', async () => {
    const results = await Promise.allSettled(
      ['x@example.com', 'X@example.com', 'x@EXAMPLE.com', 'x@example.com'].map(
        (email) => store.another().create({ name: 'X', email }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const result of results.filter((r) => r.status === 'rejected')) {
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(
        EmailTakenError,
      );
    }
    await expect(
      repository.list({ limit: 10, offset: 0 }),
    ).resolves.toMatchObject({ total: 3 });
    const next = await repository.create({ name: 'Y', email: 'y@example.com' });
    expect(next.id).toBe(4);
  });

  it('hands out copies, so a caller cannot change what is stored', async () => {
    const user = await repository.findById(1);
    user!.name = 'Mallory';
    await expect(repository.findById(1)).resolves.toMatchObject({
      name: 'Alice',
    });
  });
});
