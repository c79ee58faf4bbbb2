import { DynamicModule, Module } from '@nestjs/common';
import { type DatabaseSettings, repositoryProvider } from '@app/storage';
import { InMemoryUsersRepository } from './in-memory-users.repository';
import { PostgresUsersRepository } from './postgres-users.repository';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';
import { USERS_REPOSITORY } from './users.repository';

@Module({})
export class UsersModule {
  /** Users in PostgreSQL when the app has a database, else in process memory. */
  static forRoot(settings: DatabaseSettings): DynamicModule {
    return {
      module: UsersModule,
      controllers: [UsersController],
      providers: [
        UsersService,
        repositoryProvider(
          USERS_REPOSITORY,
          {
            postgres: PostgresUsersRepository,
            memory: InMemoryUsersRepository,
          },
          settings,
        ),
      ],
    };
  }
}
