import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import {
  type CreateUserDto,
  type Page,
  type PageRequest,
  ProblemException,
} from '@app/contracts';
import {
  EmailTakenError,
  User,
  USERS_REPOSITORY,
  type UsersRepository,
} from './users.repository';

@Injectable()
export class UsersService {
  constructor(
    @Inject(USERS_REPOSITORY) private readonly users: UsersRepository,
  ) {}

  async get(id: number): Promise<User> {
    const user = await this.users.findById(id);
    if (!user) {
      throw new ProblemException(HttpStatus.NOT_FOUND, `User ${id} not found`);
    }
    return user;
  }

  async create(user: CreateUserDto): Promise<User> {
    try {
      return await this.users.create({ name: user.name, email: user.email });
    } catch (error) {
      if (error instanceof EmailTakenError) {
        throw new ProblemException(HttpStatus.CONFLICT, error.message);
      }
      throw error;
    }
  }

  list(page: PageRequest): Promise<Page<User>> {
    return this.users.list(page);
  }
}
