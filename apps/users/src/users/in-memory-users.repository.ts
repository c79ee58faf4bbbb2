import { Injectable } from '@nestjs/common';
import {
  EmailTakenError,
  NewUser,
  Page,
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
  private readonly users = new Map<number, User>();
  private readonly idsByEmail = new Map<string, number>();
  private lastId = 0;

  constructor() {
    for (const user of SEED_USERS) this.insert(user);
  }

  async create(user: NewUser): Promise<User> {
    return this.insert(user);
  }

  async findById(id: number): Promise<User | undefined> {
    const user = this.users.get(id);
    return user && { ...user };
  }

  async list({
    limit,
    offset,
  }: {
    limit: number;
    offset: number;
  }): Promise<Page<User>> {
    // A Map iterates in insertion order, which is id order here.
    const all = [...this.users.values()];
    return {
      items: all.slice(offset, offset + limit).map((user) => ({ ...user })),
      total: all.length,
    };
  }

  // Synchronous from check to insert, so no other request can run in between.
  private insert(user: NewUser): User {
    const emailKey = user.email.toLowerCase();
    if (this.idsByEmail.has(emailKey)) throw new EmailTakenError(user.email);
    const stored = { id: ++this.lastId, ...user };
    this.users.set(stored.id, stored);
    this.idsByEmail.set(emailKey, stored.id);
    return { ...stored };
  }
}
