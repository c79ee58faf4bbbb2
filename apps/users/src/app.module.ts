import { DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@app/common';
import { UsersConfig } from './users.config';
import { USERS_MIGRATIONS } from './users/migrations';
import { UsersModule } from './users/users.module';

@Module({})
export class UsersAppModule {
  /** The app with its config given, not read here: tests pass their own. */
  static forRoot(config: UsersConfig): DynamicModule {
    return {
      module: UsersAppModule,
      global: true,
      imports: [
        PlatformModule.forRoot(
          {
            name: 'users',
            description:
              'Keeps users: get one, create one, list them. Ids are handed out by the service; emails are unique, ignoring case.',
            migrations: USERS_MIGRATIONS,
          },
          config,
        ),
        UsersModule.forRoot(config),
      ],
      providers: [{ provide: UsersConfig, useValue: config }],
      exports: [UsersConfig],
    };
  }
}
