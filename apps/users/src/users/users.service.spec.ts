import { Test } from '@nestjs/testing';
import { ProblemException } from '@app/contracts';
import {
  IdempotencySettings,
  IdempotencyStore,
  InMemoryIdempotencyStore,
} from '@app/idempotency';
import { InMemoryUsersRepository } from './in-memory-users.repository';
import { USERS_REPOSITORY, UsersRepository } from './users.repository';
import { UsersService } from './users.service';

const ALICE = { id: 1, name: 'Alice', email: 'alice@example.com', version: 1 };
const always = () => true;
const never = () => false;

describe('UsersService', () => {
  let service: UsersService;
  let repository: UsersRepository;
  let idempotency: IdempotencyStore;

  async function make(
    store: object = new InMemoryUsersRepository(),
    keys: IdempotencyStore = new InMemoryIdempotencyStore(
      new IdempotencySettings(),
    ),
  ) {
    const moduleRef = await Test.createTestingModule({
      providers: [
        UsersService,
        { provide: USERS_REPOSITORY, useValue: store },
        { provide: IdempotencyStore, useValue: keys },
      ],
    }).compile();
    service = moduleRef.get(UsersService);
    repository = moduleRef.get(USERS_REPOSITORY);
    idempotency = keys;
  }

  async function problemOf(promise: Promise<unknown>) {
    const error = await promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProblemException);
    return (error as ProblemException).problem;
  }

  beforeEach(() => make());

  it('gets a stored user', async () => {
    await expect(service.get(1)).resolves.toEqual(ALICE);
  });

  it('turns a missing user into a 404 problem naming the id', async () => {
    await expect(problemOf(service.get(9))).resolves.toMatchObject({
      status: 404,
      detail: 'User 9 not found',
    });
  });

  it('creates a user with the next id', async () => {
    await expect(
      service.create({ name: 'Charlie', email: 'charlie@example.com' }),
    ).resolves.toEqual({
      id: 3,
      name: 'Charlie',
      email: 'charlie@example.com',
      version: 1,
    });
  });

  it('turns a taken email into a 409 problem', async () => {
    await expect(
      problemOf(service.create({ name: 'Bobby', email: 'BOB@example.com' })),
    ).resolves.toMatchObject({
      status: 409,
      detail: 'A user with email BOB@example.com already exists',
    });
  });

  it('lets other repository failures through untouched', async () => {
    const failure = new Error('disk on fire');
    await make({ create: () => Promise.reject(failure) });
    await expect(
      service.create({ name: 'X', email: 'x@example.com' }),
    ).rejects.toBe(failure);
  });

  describe('update', () => {
    it('changes the user when the precondition holds', async () => {
      await expect(
        service.update(1, { name: 'Alicia' }, always),
      ).resolves.toEqual({ ...ALICE, name: 'Alicia', version: 2 });
    });

    it('answers 412 when the precondition fails, changing nothing', async () => {
      await expect(
        problemOf(service.update(1, { name: 'Mallory' }, never)),
      ).resolves.toMatchObject({
        status: 412,
        detail: 'User 1 has changed since that ETag; GET it again and retry',
      });
      await expect(repository.findById(1)).resolves.toEqual(ALICE);
    });

    it('applies If-Match: * though the user changed between the check and the write', async () => {
      let raced = false;
      const star = (current: { version: number }) => {
        if (!raced) {
          raced = true;
          void repository.update(1, { name: 'Other' }, current.version);
        }
        return true;
      };
      await expect(
        service.update(1, { email: 'a@example.org' }, star),
      ).resolves.toMatchObject({ name: 'Other', email: 'a@example.org' });
    });

    it('answers 404, not 412, when the user is erased between the check and the write', async () => {
      const erasing = () => {
        void repository.erase(1);
        return true;
      };
      await expect(
        problemOf(service.update(1, { name: 'X' }, erasing)),
      ).resolves.toMatchObject({ status: 404 });
    });

    it('answers 412 when the user changed between the check and the write', async () => {
      const sneaky = (current: { version: number }) => {
        // Another replica's change lands right after this one read the user.
        void repository.update(1, { name: 'Other' }, current.version);
        return true;
      };
      await expect(
        problemOf(service.update(1, { name: 'Mine' }, sneaky)),
      ).resolves.toMatchObject({
        status: 412,
        detail: 'User 1 has changed since that ETag; GET it again and retry',
      });
      await expect(repository.findById(1)).resolves.toMatchObject({
        name: 'Other',
      });
    });

    it('answers 404 for an unknown user and 409 for a taken email', async () => {
      await expect(
        problemOf(service.update(9, { name: 'X' }, always)),
      ).resolves.toMatchObject({ status: 404 });
      await expect(
        problemOf(service.update(2, { email: 'Alice@example.com' }, always)),
      ).resolves.toMatchObject({
        status: 409,
        detail: 'A user with email Alice@example.com already exists',
      });
    });
  });

  describe('erase', () => {
    it('erases the user and forgets the answers that created them', async () => {
      const claim = await idempotency.claim('k', 'f');
      if (claim.kind !== 'new') throw new Error(claim.kind);
      await idempotency.complete('k', claim.entry, 201, { user_id: 2 });
      await service.erase(2);
      await expect(repository.findById(2)).resolves.toBeUndefined();
      await expect(idempotency.claim('k', 'f')).resolves.toMatchObject({
        kind: 'new',
      });
    });

    it('answers 404 for an unknown user, and 412 when If-Match does not match', async () => {
      await expect(problemOf(service.erase(9))).resolves.toMatchObject({
        status: 404,
        detail: 'User 9 not found',
      });
      await expect(problemOf(service.erase(1, never))).resolves.toMatchObject({
        status: 412,
        detail: 'User 1 has changed since that ETag; GET it again and retry',
      });
      await expect(repository.findById(1)).resolves.toEqual(ALICE);
    });

    it("forgets only the erased user's answers, whether it erased them now or before", async () => {
      const remember = async (key: string, userId: number) => {
        const claim = await idempotency.claim(key, 'f');
        if (claim.kind !== 'new') throw new Error(claim.kind);
        await idempotency.complete(key, claim.entry, 201, { user_id: userId });
      };
      await remember('alice', 1);
      await remember('bob', 2);
      await service.erase(2);
      await expect(problemOf(service.erase(9))).resolves.toMatchObject({
        status: 404,
      });
      await expect(idempotency.claim('alice', 'f')).resolves.toMatchObject({
        kind: 'replay',
      });
      await expect(idempotency.claim('bob', 'f')).resolves.toMatchObject({
        kind: 'new',
      });
    });

    it('gives up with 412 after three writes that each lost to another change', async () => {
      // Every erase finds the user changed since it read them: a race lost, again and again.
      class AlwaysRaced extends InMemoryUsersRepository {
        tries = 0;
        override erase(): Promise<boolean> {
          this.tries += 1;
          return Promise.resolve(false);
        }
      }
      const store = new AlwaysRaced();
      await make(store);
      await expect(problemOf(service.erase(1))).resolves.toMatchObject({
        status: 412,
        detail: 'User 1 has changed since that ETag; GET it again and retry',
      });
      expect(store.tries).toBe(3);
    });

    it('finishes an erasure whose forgetting failed when the DELETE is tried again', async () => {
      const keys = new InMemoryIdempotencyStore(new IdempotencySettings());
      const claim = await keys.claim('k', 'f');
      if (claim.kind !== 'new') throw new Error(claim.kind);
      await keys.complete('k', claim.entry, 201, { user_id: 1 });
      const forget = keys.forgetAnswers.bind(keys);
      keys.forgetAnswers = () => Promise.reject(new Error('down'));
      await make(new InMemoryUsersRepository(), keys);
      await expect(service.erase(1)).rejects.toThrow('down');
      await expect(repository.findById(1)).resolves.toBeUndefined();
      keys.forgetAnswers = forget;
      await expect(problemOf(service.erase(1))).resolves.toMatchObject({
        status: 404,
      });
      await expect(keys.claim('k', 'f')).resolves.toMatchObject({
        kind: 'new',
      });
    });

    it('erases nothing and forgets nothing when If-Match fails, or the user changes in between', async () => {
      const claim = await idempotency.claim('k', 'f');
      if (claim.kind !== 'new') throw new Error(claim.kind);
      await idempotency.complete('k', claim.entry, 201, { user_id: 1 });
      const racing = (current: { version: number }) => {
        // Another replica's change lands after this one read the user, every time.
        void repository.update(
          1,
          { name: `V${current.version}` },
          current.version,
        );
        return current.version === 1;
      };
      await expect(problemOf(service.erase(1, racing))).resolves.toMatchObject({
        status: 412,
      });
      // Read twice (the second time at version 2, no longer the one If-Match named), changed twice.
      await expect(repository.findById(1)).resolves.toMatchObject({
        version: 3,
      });
      await expect(idempotency.claim('k', 'f')).resolves.toMatchObject({
        kind: 'replay',
      });
    });
  });
});
