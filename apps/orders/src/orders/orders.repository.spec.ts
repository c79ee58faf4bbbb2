import { migratedTestDatabase, MigratedTestDatabase } from '@app/testing';
import { InMemoryOrdersRepository } from './in-memory-orders.repository';
import { ORDERS_MIGRATIONS } from './migrations';
import { OrdersRepository } from './orders.repository';
import { PostgresOrdersRepository } from './postgres-orders.repository';

interface Store {
  repository: OrdersRepository;
  /** The same data seen by another process: another repository on the same store. */
  another(): OrdersRepository;
  close(): Promise<void>;
}

const stores: [string, () => Promise<Store>][] = [
  [
    'InMemoryOrdersRepository',
    async () => {
      const repository = new InMemoryOrdersRepository();
      return {
        repository,
        another: () => repository,
        close: async () => undefined,
      };
    },
  ],
  [
    'PostgresOrdersRepository',
    async () => {
      const db: MigratedTestDatabase =
        await migratedTestDatabase(ORDERS_MIGRATIONS);
      return {
        repository: new PostgresOrdersRepository(db.database),
        another: () => new PostgresOrdersRepository(db.database),
        close: () => db.close(),
      };
    },
  ],
];

describe.each(stores)('%s', (_name, open) => {
  let store: Store;
  let repository: OrdersRepository;

  beforeEach(async () => {
    store = await open();
    repository = store.repository;
  });

  afterEach(() => store.close());

  it('starts with the seed orders', async () => {
    await expect(repository.findById(1)).resolves.toEqual({
      id: 1,
      userId: 1,
      product: 'Laptop',
    });
    await expect(repository.findById(2)).resolves.toEqual({
      id: 2,
      userId: 2,
      product: 'Smartphone',
    });
    await expect(repository.findById(3)).resolves.toBeUndefined();
  });

  it('hands out increasing ids, never reused', async () => {
    const a = await repository.create({ userId: 2, product: 'Tablet' });
    const b = await repository.create({ userId: 1, product: 'Mouse' });
    expect([a.id, b.id]).toEqual([3, 4]);
  });

  it("lists all orders or one user's, in id order, a page at a time", async () => {
    await repository.create({ userId: 2, product: 'Tablet' });
    await expect(
      repository.list({ limit: 50, offset: 0 }),
    ).resolves.toMatchObject({ total: 3 });
    await expect(
      repository.list({ userId: 2, limit: 1, offset: 1 }),
    ).resolves.toEqual({
      items: [{ id: 3, userId: 2, product: 'Tablet' }],
      total: 2,
    });
    await expect(
      repository.list({ userId: 5, limit: 50, offset: 0 }),
    ).resolves.toEqual({
      items: [],
      total: 0,
    });
  });

  it('gives concurrent creates distinct, gapless ids', async () => {
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.another().create({ userId: 1, product: `P${i}` }),
      ),
    );
    expect(created.map((order) => order.id).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 3),
    );
  });

  it('hands out copies, so a caller cannot change what is stored', async () => {
    const order = await repository.findById(1);
    order!.product = 'Brick';
    await expect(repository.findById(1)).resolves.toMatchObject({
      product: 'Laptop',
    });
  });
});
