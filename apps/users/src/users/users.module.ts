import { DynamicModule, Module } from '@nestjs/common';
import type { DatabaseSettings } from '@app/storage';
import { InMemoryUsersRepository } from './in-memory-users.repository';
import { PostgresUsersRepository } from './postgres-users.repository';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';
import { USERS_REPOSITORY } from './users.repository';

@Module({})
export class UsersModule {
  /** Users in PostgreSQL when the app has a database, else in process memory. */
  static forRoot({ DATABASE_URL }: DatabaseSettings): DynamicModule {
    return {
      module: UsersModule,
      controllers: [UsersController],
      providers: [
        UsersService,
        {
          provide: USERS_REPOSITORY,
          useClass: DATABASE_URL
            ? PostgresUsersRepository
            : InMemoryUsersRepository,
        },
      ],
    };
  }
}
