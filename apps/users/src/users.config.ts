import { EnvInt, ServiceConfig } from '@app/common';
import { IsInt, Max, Min } from 'class-validator';

/** The users app's environment; see the README for each variable. */
export class UsersConfig extends ServiceConfig {
  @EnvInt()
  @Max(65535)
  @Min(1)
  @IsInt()
  USERS_PORT = 5001;
}
