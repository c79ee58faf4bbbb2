import { describeRepositoryContract } from '@app/testing';
import { USERS_MIGRATIONS } from './migrations';
import { EmailTakenError } from './users.repository';
import { USERS_STORES } from './users.module';

describeRepositoryContract(
  {
    stores: USERS_STORES,
    migrations: USERS_MIGRATIONS,
    seed: [
      { id: 1, name: 'Alice', email: 'alice@example.com', version: 1 },
      { id: 2, name: 'Bob', email: 'bob@example.com', version: 1 },
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

    describe('changing a user', () => {
      it('applies the changes at the version seen, and counts a version', async () => {
        const { repository } = store();
        await expect(
          repository.update(1, { email: 'alice@example.org' }, 1),
        ).resolves.toEqual({
          id: 1,
          name: 'Alice',
          email: 'alice@example.org',
          version: 2,
        });
        await expect(
          repository.update(1, { name: 'Alicia' }, 2),
        ).resolves.toMatchObject({ name: 'Alicia', version: 3 });
        await expect(repository.findById(1)).resolves.toEqual({
          id: 1,
          name: 'Alicia',
          email: 'alice@example.org',
          version: 3,
        });
      });

      it('changes nothing at another version, or for an unknown user', async () => {
        const { repository } = store();
        await expect(
          repository.update(1, { name: 'Mallory' }, 2),
        ).resolves.toBeUndefined();
        await expect(
          repository.update(99, { name: 'Mallory' }, 1),
        ).resolves.toBeUndefined();
        await expect(repository.findById(1)).resolves.toMatchObject({
          name: 'Alice',
          version: 1,
        });
      });

      it("refuses another user's email, ignoring case, changing nothing; one's own in another case is fine", async () => {
        const { repository } = store();
        await expect(
          repository.update(2, { email: 'ALICE@example.com' }, 1),
        ).rejects.toBeInstanceOf(EmailTakenError);
        await expect(repository.findById(2)).resolves.toMatchObject({
          email: 'bob@example.com',
          version: 1,
        });
        await expect(
          repository.update(1, { email: 'ALICE@example.com' }, 1),
        ).resolves.toMatchObject({ email: 'ALICE@example.com', version: 2 });
      });

      it('of concurrent changes at one version on several replicas, applies exactly one', async () => {
        const results = await Promise.all(
          ['A', 'B', 'C', 'D'].map((name) =>
            store().another().update(1, { name }, 1),
          ),
        );
        const applied = results.filter((user) => user !== undefined);
        expect(applied).toHaveLength(1);
        await expect(store().repository.findById(1)).resolves.toEqual(
          applied[0],
        );
      });
    });

    describe('erasing a user', () => {
      it('removes them, name, email and all, frees the email, and never hands the id out again', async () => {
        const { repository } = store();
        await expect(repository.erase(2)).resolves.toBe(true);
        await expect(repository.findById(2)).resolves.toBeUndefined();
        await expect(repository.erase(2)).resolves.toBe(false);
        await expect(
          repository.list({ limit: 10, offset: 0 }),
        ).resolves.toEqual({
          items: [
            { id: 1, name: 'Alice', email: 'alice@example.com', version: 1 },
          ],
          total: 1,
        });
        await expect(
          repository.create({ name: 'Bob', email: 'bob@example.com' }),
        ).resolves.toMatchObject({ id: 3 });
      });

      it('erases only at the version seen, when one is given', async () => {
        const { repository } = store();
        await repository.update(2, { name: 'Robert' }, 1);
        await expect(repository.erase(2, 1)).resolves.toBe(false);
        await expect(repository.findById(2)).resolves.toMatchObject({
          name: 'Robert',
        });
        await expect(repository.erase(2, 2)).resolves.toBe(true);
      });
    });
  },
);
