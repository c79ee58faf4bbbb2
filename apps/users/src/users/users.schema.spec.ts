import { migratedSchema } from '@app/testing';
import { USERS_MIGRATIONS } from './migrations';
import { USERS_SCHEMA } from './users.schema';

describe('UsersDatabase', () => {
  it('is what the migrations build: every table and column, its type and nullability', async () => {
    await expect(migratedSchema(USERS_MIGRATIONS)).resolves.toEqual(
      USERS_SCHEMA,
    );
  });
});
