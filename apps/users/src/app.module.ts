import { DynamicModule, Module } from '@nestjs/common';
import { PlatformModule, type ServiceDefinition } from '@app/platform';
import { UsersConfig } from './users.config';
import { USERS_MIGRATIONS } from './users/migrations';
import { UsersModule } from './users/users.module';

@Module({})
export class UsersAppModule {
  /** The app with its config given, not read here: tests pass their own. */
  static forRoot(config: UsersConfig): DynamicModule {
    return {
      module: UsersAppModule,
      imports: [
        PlatformModule.forRoot(service, config),
        UsersModule.forRoot(config),
      ],
    };
  }
}

/** The users service, as main.ts runs it and the deployment checks read it. */
export const service: ServiceDefinition<UsersConfig> = {
  name: 'users',
  description:
    'Keeps users: get, create, change (If-Match) and erase one, list them. Ids are handed out by the service and never reused; emails are unique, ignoring case; each user has a version, its ETag.',
  apiTags: {
    users:
      'Users: read one with its ETag, create, change with If-Match, erase, list.',
  },
  config: UsersConfig,
  port: 'USERS_PORT',
  migrations: USERS_MIGRATIONS,
  module: (config) => UsersAppModule.forRoot(config),
};
