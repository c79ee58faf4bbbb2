import { EnvInt } from '@app/config';
import { ServiceConfig } from '@app/platform';
import { IsInt, Max, Min } from 'class-validator';

/** The users app's environment: every lib's settings, and its port; see docs/configuration.md. */
export class UsersConfig extends ServiceConfig {
  /** The port the service listens on. */
  @EnvInt()
  @Max(65535)
  @Min(1)
  @IsInt()
  USERS_PORT = 5001;
}
