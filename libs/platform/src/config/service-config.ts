import { AuthSettings } from '@app/auth';
import { composeSettings } from '@app/config';
import { IdempotencySettings } from '@app/idempotency';
import { DatabaseSettings } from '@app/storage';
import { PlatformSettings } from './platform.settings';

/**
 * What every service reads from its environment: the settings of the chassis and of each lib it
 * wires. An app's config extends it with the app's own (`class UsersConfig extends ServiceConfig`)
 * or composes it with a feature's (`composeSettings(ServiceConfig, UsersClientSettings)`).
 */
export class ServiceConfig extends composeSettings(
  PlatformSettings,
  AuthSettings,
  DatabaseSettings,
  IdempotencySettings,
) {}
