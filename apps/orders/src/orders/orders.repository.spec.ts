import { describeRepositoryContract } from '@app/testing';
import { ORDERS_MIGRATIONS } from './migrations';
import { ORDERS_STORES } from './orders.module';

describeRepositoryContract(
  {
    stores: ORDERS_STORES,
    migrations: ORDERS_MIGRATIONS,
    seed: [
      { id: 1, userId: 1, product: 'Laptop' },
      { id: 2, userId: 2, product: 'Smartphone' },
    ],
    newRecord: (n) => ({ userId: (n % 2) + 1, product: `P${n}` }),
  },
  (store) => {
    it("lists one user's orders, in id order, a page at a time", async () => {
      const { repository } = store();
      await repository.create({ userId: 2, product: 'Tablet' });
      await expect(
        repository.list({ userId: 2, limit: 1, offset: 1 }),
      ).resolves.toEqual({
        items: [{ id: 3, userId: 2, product: 'Tablet' }],
        total: 2,
      });
      await expect(
        repository.list({ userId: 5, limit: 50, offset: 0 }),
      ).resolves.toEqual({ items: [], total: 0 });
    });
  },
);
