import type { Page, PageRequest } from '@app/contracts';
import { InMemoryTable, UniqueViolation } from '@app/storage';
import { Injectable } from '@nestjs/common';
import {
  EmailTakenError,
  NewUser,
  User,
  UserChanges,
  UsersRepository,
} from './users.repository';

const SEED_USERS: Omit<User, 'id'>[] = [
  { name: 'Alice', email: 'alice@example.com', version: 1 },
  { name: 'Bob', email: 'bob@example.com', version: 1 },
];

/** The seed's dictionary: per process, gone on restart. */
@Injectable()
export class InMemoryUsersRepository implements UsersRepository {
  private readonly users = new InMemoryTable<Omit<User, 'id'>>(SEED_USERS, {
    email: (user) => user.email.toLowerCase(),
  });

  async create(user: NewUser): Promise<User> {
    return this.write(user.email, () =>
      this.users.insert({ name: user.name, email: user.email, version: 1 }),
    );
  }

  async findById(id: number): Promise<User | undefined> {
    return this.users.get(id);
  }

  async list(page: PageRequest): Promise<Page<User>> {
    return this.users.page(page);
  }

  async update(
    id: number,
    changes: UserChanges,
    version: number,
  ): Promise<User | undefined> {
    return this.write(changes.email ?? '', () =>
      this.users.update(
        id,
        { ...changes, version: version + 1 },
        (user) => user.version === version,
      ),
    );
  }

  async erase(id: number, version?: number): Promise<boolean> {
    return this.users.delete(
      id,
      (user) => version === undefined || user.version === version,
    );
  }

  private write<T>(email: string, change: () => T): T {
    try {
      return change();
    } catch (error) {
      if (error instanceof UniqueViolation) throw new EmailTakenError(email);
      throw error;
    }
  }
}
