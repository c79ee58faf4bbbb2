import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import {
  type CreateUserDto,
  type Page,
  type PageRequest,
  ProblemException,
} from '@app/contracts';
import { IdempotencyStore } from '@app/idempotency';
import { preconditionFailed } from '@app/platform';
import {
  EmailTakenError,
  User,
  UserChanges,
  USERS_REPOSITORY,
  type UsersRepository,
} from './users.repository';

/** Whether a change may go ahead on the user as it is now (the request's If-Match). */
export type Precondition = (current: User) => boolean;

@Injectable()
export class UsersService {
  constructor(
    @Inject(USERS_REPOSITORY) private readonly users: UsersRepository,
    private readonly idempotency: IdempotencyStore,
  ) {}

  async get(id: number): Promise<User> {
    const user = await this.users.findById(id);
    if (!user) {
      throw new ProblemException(HttpStatus.NOT_FOUND, `User ${id} not found`);
    }
    return user;
  }

  async create(user: CreateUserDto): Promise<User> {
    return this.conflictOnTakenEmail(() =>
      this.users.create({ name: user.name, email: user.email }),
    );
  }

  /**
   * Changes the user if `precondition` holds for it now, and only if nobody changes it in
   * between (the store's write is conditional on the version checked): 404, 412, 409 otherwise.
   */
  async update(
    id: number,
    changes: UserChanges,
    precondition: Precondition,
  ): Promise<User> {
    const current = await this.get(id);
    if (!precondition(current)) throw preconditionFailed(`User ${id}`);
    const updated = await this.conflictOnTakenEmail(() =>
      this.users.update(id, changes, current.version),
    );
    if (!updated) throw preconditionFailed(`User ${id}`);
    return updated;
  }

  /**
   * Erases the user (GDPR art. 17): their row, name and email with it, and the remembered answers
   * of requests that created them. Conditional when the request is (If-Match); else the user as it
   * is. 404 when there is no such user, 412 when the precondition fails.
   */
  async erase(id: number, precondition?: Precondition): Promise<void> {
    const current = await this.get(id);
    if (precondition && !precondition(current))
      throw preconditionFailed(`User ${id}`);
    // First, so that a failure leaves the user in place for the client's retry.
    await this.idempotency.forgetAnswers({ user_id: id });
    const erased = await this.users.erase(
      id,
      precondition ? current.version : undefined,
    );
    if (!erased) {
      if (precondition) throw preconditionFailed(`User ${id}`);
      throw new ProblemException(HttpStatus.NOT_FOUND, `User ${id} not found`);
    }
  }

  list(page: PageRequest): Promise<Page<User>> {
    return this.users.list(page);
  }

  private async conflictOnTakenEmail<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (error instanceof EmailTakenError)
        throw new ProblemException(HttpStatus.CONFLICT, error.message);
      throw error;
    }
  }
}
