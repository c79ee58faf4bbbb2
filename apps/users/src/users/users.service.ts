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

/** How often a change that lost a race with another is decided again before a 412. */
const RACES = 3;

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
   * between: the store's write is conditional on the version checked. When it was changed or
   * erased in between, the request is decided again on the user as it is then (a tag that no
   * longer matches: 412; `*`: applied; gone: 404); 409 for a taken email.
   */
  async update(
    id: number,
    changes: UserChanges,
    precondition: Precondition,
  ): Promise<User> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.get(id);
      if (!precondition(current)) throw preconditionFailed(`User ${id}`);
      const updated = await this.conflictOnTakenEmail(() =>
        this.users.update(id, changes, current.version),
      );
      if (updated) return updated;
      if (attempt === RACES) throw preconditionFailed(`User ${id}`);
    }
  }

  /**
   * Erases the user (GDPR art. 17): their row, name and email with it, then the remembered
   * answers of the requests that created them. Conditional on If-Match when sent (412), and
   * decided again as above when the user changes in between. A user already gone is a 404, after
   * their answers are forgotten once more: the retry of an erasure that failed half way finishes it.
   */
  async erase(id: number, precondition?: Precondition): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.users.findById(id);
      if (!current) {
        await this.idempotency.forgetAnswers({ user_id: id });
        throw new ProblemException(
          HttpStatus.NOT_FOUND,
          `User ${id} not found`,
        );
      }
      if (precondition && !precondition(current))
        throw preconditionFailed(`User ${id}`);
      if (await this.users.erase(id, current.version)) break;
      if (attempt === RACES) throw preconditionFailed(`User ${id}`);
    }
    await this.idempotency.forgetAnswers({ user_id: id });
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
