import {
  describeRepositoryContract,
  inMemoryStore,
  postgresStore,
} from '@app/testing';
import { InMemoryUsersRepository } from './in-memory-users.repository';
import { USERS_MIGRATIONS } from './migrations';
import { PostgresUsersRepository } from './postgres-users.repository';
import { EmailTakenError, UsersRepository } from './users.repository';
import type { UsersDatabase } from './users.schema';

describeRepositoryContract(
  {
    stores: {
      InMemoryUsersRepository: inMemoryStore<UsersRepository>(
        () => new InMemoryUsersRepository(),
      ),
      PostgresUsersRepository: postgresStore<UsersRepository, UsersDatabase>(
        USERS_MIGRATIONS,
        (database) => new PostgresUsersRepository(database),
      ),
    },
    seed: [
      { id: 1, name: 'Alice', email: 'alice@example.com' },
      { id: 2, name: 'Bob', email: 'bob@example.com' },
    ],
    newRecord: (n) => ({ name: `U${n}`, email: `u${n}@example.com` }),
  },
  (store) => {
    it('refuses an email that differs only in case, without consuming an id', async () => {
      const { repository } = store();
      await expect(
        repository.create({ name: 'Alice 2', email: 'ALICE@Example.com' }),
      ).rejects.toBeInstanceOf(EmailTakenError);
      const next = await repository.create({
        name: 'Dave',
        email: 'dave@example.com',
      });
      expect(next.id).toBe(3);
    });

    it('of concurrent creates of one email, stores exactly one', async () => {
      const results = await Promise.allSettled(
        [
          'x@example.com',
          'X@example.com',
          'x@EXAMPLE.com',
          'x@example.com',
        ].map((email) => store().another().create({ name: 'X', email })),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const result of results.filter((r) => r.status === 'rejected')) {
        expect((result as PromiseRejectedResult).reason).toBeInstanceOf(
          EmailTakenError,
        );
      }
      const { repository } = store();
      await expect(
        repository.list({ limit: 10, offset: 0 }),
      ).resolves.toMatchObject({ total: 3 });
      const next = await repository.create({
        name: 'Y',
        email: 'y@example.com',
      });
      expect(next.id).toBe(4);
    });
  },
);
