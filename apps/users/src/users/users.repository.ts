import type { Page, PageRequest } from '@app/contracts';

export interface User {
  id: number;
  name: string;
  email: string;
}

export type NewUser = Omit<User, 'id'>;

export class EmailTakenError extends Error {
  constructor(readonly email: string) {
    super(`A user with email ${email} already exists`);
    this.name = 'EmailTakenError';
  }
}

/**
 * Where users live. Ids are handed out by the store: positive, increasing, never reused, and only
 * consumed by a user that was stored. Emails are unique ignoring case; the store enforces it in the
 * same step as the insert, so two concurrent creates cannot both pass a separate check.
 */
export interface UsersRepository {
  /** @throws EmailTakenError when another user has this email, ignoring case. */
  create(user: NewUser): Promise<User>;
  findById(id: number): Promise<User | undefined>;
  /** Users in id order. */
  list(page: PageRequest): Promise<Page<User>>;
}

/** The injection token the users store is bound to (see UsersModule). */
export const USERS_REPOSITORY = Symbol('USERS_REPOSITORY');
