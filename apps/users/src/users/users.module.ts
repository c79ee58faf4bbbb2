import { Module } from '@nestjs/common';
import { storeProvider, type Stores } from '@app/storage';
import { InMemoryUsersRepository } from './in-memory-users.repository';
import { PostgresUsersRepository } from './postgres-users.repository';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';
import { USERS_REPOSITORY, type UsersRepository } from './users.repository';
import type { UsersDatabase } from './users.schema';

/** Where users are kept: the app binds one, the repository spec runs the contract on both. */
export const USERS_STORES: Stores<UsersRepository, UsersDatabase> = {
  postgres: (database) => new PostgresUsersRepository(database),
  memory: () => new InMemoryUsersRepository(),
};

/** Users in PostgreSQL when the app has a database, else in process memory. */
@Module({
  controllers: [UsersController],
  providers: [UsersService, storeProvider(USERS_REPOSITORY, USERS_STORES)],
})
export class UsersModule {}
