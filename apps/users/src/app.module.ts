import { defineService } from '@app/platform';
import { UsersConfig } from './users.config';
import { USERS_MIGRATIONS } from './users/migrations';
import { UsersModule } from './users/users.module';

/**
 * The users service, as main.ts runs it, tests boot it (`service.module(config)`, with their own
 * config) and the deployment checks read it.
 */
export const service = defineService<UsersConfig>({
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
  features: [UsersModule],
});
