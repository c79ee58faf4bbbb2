import { composeSettings, EnvInt } from '@app/config';
import { ServiceConfig } from '@app/platform';
import { IsInt, Max, Min } from 'class-validator';
import { UsersClientSettings } from './users-client/users-client.settings';

/** The orders app's environment: every lib's settings, the users client's, and its port. */
export class OrdersConfig extends composeSettings(
  ServiceConfig,
  UsersClientSettings,
) {
  /** The port the service listens on. */
  @EnvInt()
  @Max(65535)
  @Min(1)
  @IsInt()
  ORDERS_PORT = 5002;
}
