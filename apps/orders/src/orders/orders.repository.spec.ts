import { InMemoryOrdersRepository } from './in-memory-orders.repository';

describe('InMemoryOrdersRepository', () => {
  let repository: InMemoryOrdersRepository;

  beforeEach(() => {
    repository = new InMemoryOrdersRepository();
  });

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

  it('hands out copies, so a caller cannot change what is stored', async () => {
    const order = await repository.findById(1);
    order!.product = 'Brick';
    await expect(repository.findById(1)).resolves.toMatchObject({
      product: 'Laptop',
    });
  });
});
