import { migratedSchema } from '@app/testing';
import { ORDERS_MIGRATIONS } from './migrations';
import { ORDERS_SCHEMA } from './orders.schema';

describe('OrdersDatabase', () => {
  it('is what the migrations build: every table and column, its type and nullability', async () => {
    await expect(migratedSchema(ORDERS_MIGRATIONS)).resolves.toEqual(
      ORDERS_SCHEMA,
    );
  });
});
