import type { Page, PageRequest } from '@app/contracts';

export interface User {
  id: number;
  name: string;
  email: string;
  /** 1 when created, one more with each change: what a conditional change compares. */
  version: number;
}

export type NewUser = Pick<User, 'name' | 'email'>;

export type UserChanges = Partial<NewUser>;

export class EmailTakenError extends Error {
  constructor(readonly email: string) {
    super(`A user with email ${email} already exists`);
    this.name = 'EmailTakenError';
  }
}

/**
 * Where users live. Ids are handed out by the store: positive, increasing, never reused (not even
 * after an erasure), and only consumed by a user that was stored. Emails are unique ignoring case;
 * the store enforces it in the same step as the write, so two concurrent writes cannot both pass a
 * separate check. A change or an erasure may be made conditional on the version the caller saw:
 * of two with the same version, one wins.
 */
export interface UsersRepository {
  /** @throws EmailTakenError when another user has this email, ignoring case. */
  create(user: NewUser): Promise<User>;
  findById(id: number): Promise<User | undefined>;
  /** Users in id order. */
  list(page: PageRequest): Promise<Page<User>>;
  /**
   * Applies `changes` if the user is still at `version`, and counts a new version: the changed
   * user, or undefined when it is gone or at another version. @throws EmailTakenError
   */
  update(
    id: number,
    changes: UserChanges,
    version: number,
  ): Promise<User | undefined>;
  /**
   * Erases the user, name and email with it, if it is at `version` (any version when not given).
   * False when there is no such user at that version.
   */
  erase(id: number, version?: number): Promise<boolean>;
}

/** The injection token the users store is bound to (see UsersModule). */
export const USERS_REPOSITORY = Symbol('USERS_REPOSITORY');
