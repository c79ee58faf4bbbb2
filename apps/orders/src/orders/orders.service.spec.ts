import { HttpStatus } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ProblemException } from '@app/contracts';
import { UsersClient } from '../users-client/users.client';
import { InMemoryOrdersRepository } from './in-memory-orders.repository';
import { OrdersService } from './orders.service';
import { ORDERS_REPOSITORY } from './orders.repository';

const ALICE = { name: 'Alice', email: 'alice@example.com' };

describe('OrdersService', () => {
  let service: OrdersService;
  let repository: InMemoryOrdersRepository;
  const findUser = jest.fn();
  const findUserOrCopy = jest.fn();

  beforeEach(async () => {
    findUser.mockReset();
    findUserOrCopy.mockReset();
    const moduleRef = await Test.createTestingModule({
      providers: [
        OrdersService,
        { provide: ORDERS_REPOSITORY, useClass: InMemoryOrdersRepository },
        { provide: UsersClient, useValue: { findUser, findUserOrCopy } },
      ],
    }).compile();
    service = moduleRef.get(OrdersService);
    repository = moduleRef.get(ORDERS_REPOSITORY);
  });

  it('gets an order with its user from the users client, or the copy standing in', async () => {
    findUserOrCopy.mockResolvedValue({ user: ALICE });
    await expect(service.get(1)).resolves.toEqual({
      order: { id: 1, userId: 1, product: 'Laptop' },
      user: ALICE,
    });
    expect(findUserOrCopy).toHaveBeenCalledWith(1);
    const copy = { ageS: 12, because: 'down' };
    findUserOrCopy.mockResolvedValue({ user: ALICE, copy });
    await expect(service.get(1)).resolves.toMatchObject({ copy });
  });

  it('gets an order with a null user when the users app has forgotten them', async () => {
    findUserOrCopy.mockResolvedValue({ user: null });
    await expect(service.get(2)).resolves.toMatchObject({ user: null });
  });

  it('answers 404 for an unknown order without asking for a user', async () => {
    const error = await service.get(99).catch((e: unknown) => e);
    expect((error as ProblemException).problem).toMatchObject({
      status: 404,
      detail: 'Order 99 not found',
    });
    expect(findUserOrCopy).not.toHaveBeenCalled();
  });

  it('stores an order once its user is confirmed, never on a copy', async () => {
    findUser.mockResolvedValue(ALICE);
    await expect(
      service.create({ user_id: 1, product: 'Tablet' }),
    ).resolves.toEqual({
      id: 3,
      userId: 1,
      product: 'Tablet',
    });
  });

  it('answers 422 for an unknown user and stores nothing', async () => {
    findUser.mockResolvedValue(null);
    const error = await service
      .create({ user_id: 7, product: 'Tablet' })
      .catch((e: unknown) => e);
    expect((error as ProblemException).problem).toMatchObject({
      status: 422,
      detail: 'User 7 does not exist',
    });
    await expect(
      repository.list({ limit: 50, offset: 0 }),
    ).resolves.toMatchObject({ total: 2 });
  });

  it('passes the users client failure on and stores nothing', async () => {
    const unavailable = new ProblemException(
      HttpStatus.SERVICE_UNAVAILABLE,
      'down',
    );
    findUser.mockRejectedValue(unavailable);
    await expect(
      service.create({ user_id: 1, product: 'Tablet' }),
    ).rejects.toBe(unavailable);
    await expect(
      repository.list({ limit: 50, offset: 0 }),
    ).resolves.toMatchObject({ total: 2 });
  });

  it('asks users itself when creating an order, never taking a copy', async () => {
    findUser.mockResolvedValue(ALICE);
    await service.create({ user_id: 1, product: 'Tablet' });
    expect(findUser).toHaveBeenCalledWith(1);
    expect(findUserOrCopy).not.toHaveBeenCalled();
  });
});
