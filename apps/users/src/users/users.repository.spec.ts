import { InMemoryUsersRepository } from './in-memory-users.repository';
import { EmailTakenError } from './users.repository';

describe('InMemoryUsersRepository', () => {
  let repository: InMemoryUsersRepository;

  beforeEach(() => {
    repository = new InMemoryUsersRepository();
  });

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

  it('hands out copies, so a caller cannot change what is stored', async () => {
    const user = await repository.findById(1);
    user!.name = 'Mallory';
    await expect(repository.findById(1)).resolves.toMatchObject({
      name: 'Alice',
    });
  });
});
