import { Test } from '@nestjs/testing';
import { ProblemException } from '@app/contracts';
import { InMemoryUsersRepository } from './in-memory-users.repository';
import { UsersService } from './users.service';
import { USERS_REPOSITORY } from './users.repository';

describe('UsersService', () => {
  let service: UsersService;

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({
      providers: [
        UsersService,
        { provide: USERS_REPOSITORY, useClass: InMemoryUsersRepository },
      ],
    }).compile();
    service = moduleRef.get(UsersService);
  });

  it('gets a stored user', async () => {
    await expect(service.get(1)).resolves.toEqual({
      id: 1,
      name: 'Alice',
      email: 'alice@example.com',
    });
  });

  it('turns a missing user into a 404 problem naming the id', async () => {
    const error = await service.get(9).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProblemException);
    expect((error as ProblemException).problem).toMatchObject({
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
    });
  });

  it('turns a taken email into a 409 problem', async () => {
    const error = await service
      .create({ name: 'Bobby', email: 'BOB@example.com' })
      .catch((e: unknown) => e);
    expect((error as ProblemException).problem).toMatchObject({
      status: 409,
      detail: 'A user with email BOB@example.com already exists',
    });
  });

  it('lets other repository failures through untouched', async () => {
    const failure = new Error('disk on fire');
    const moduleRef = await Test.createTestingModule({
      providers: [
        UsersService,
        {
          provide: USERS_REPOSITORY,
          useValue: { create: () => Promise.reject(failure) },
        },
      ],
    }).compile();
    await expect(
      moduleRef.get(UsersService).create({ name: 'X', email: 'x@example.com' }),
    ).rejects.toBe(failure);
  });
});
