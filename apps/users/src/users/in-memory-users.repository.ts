import type { Page, PageRequest } from '@app/contracts';
import { InMemoryTable, UniqueViolation } from '@app/storage';
import { Injectable } from '@nestjs/common';
import {
  EmailTakenError,
  NewUser,
  User,
  UsersRepository,
} from './users.repository';

const SEED_USERS: NewUser[] = [
  { name: 'Alice', email: 'alice@example.com' },
  { name: 'Bob', email: 'bob@example.com' },
];

/** The seed's dictionary: per process, gone on restart. */
@Injectable()
export class InMemoryUsersRepository implements UsersRepository {
  private readonly users = new InMemoryTable<NewUser>(SEED_USERS, {
    email: (user) => user.email.toLowerCase(),
  });

  async create(user: NewUser): Promise<User> {
    try {
      return this.users.insert(user);
    } catch (error) {
      if (error instanceof UniqueViolation)
        throw new EmailTakenError(user.email);
      throw error;
    }
  }

  async findById(id: number): Promise<User | undefined> {
    return this.users.get(id);
  }

  async list(page: PageRequest): Promise<Page<User>> {
    return this.users.page(page);
  }
}
