import {
  DynamicModule,
  FactoryProvider,
  InjectionToken,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import type { Migration } from 'kysely/migration';
import { Database, ForeignDatabaseError } from './database';
import { DatabaseSettings } from './database.settings';
import { withoutDatabaseUrl } from './errors';

/** Whether a service keeps its data in PostgreSQL: `DATABASE_URL` set. Decided here only. */
export const inDatabase = ({
  DATABASE_URL,
}: Pick<DatabaseSettings, 'DATABASE_URL'>): boolean => DATABASE_URL !== '';

/** How to make each store of a repository: what the app binds and the contract tests run. */
export interface Stores<T, DB = unknown> {
  postgres: (database: Database<DB>) => T;
  memory: () => T;
}

/**
 * A store bound to its token: the PostgreSQL one when the app has a `Database` (the platform
 * provides one exactly when `inDatabase`), else the one in process memory. So the choice is made
 * once, where the platform decides whether to connect; features and libs only name their stores.
 */
export function storeProvider<T, DB = unknown>(
  token: InjectionToken<T>,
  stores: Stores<T, DB>,
): FactoryProvider<T> {
  return {
    provide: token,
    inject: [{ token: Database, optional: true }],
    useFactory: (database: Database<DB> | undefined) =>
      database ? stores.postgres(database) : stores.memory(),
  };
}

export function createDatabase<DB = unknown>(
  name: string,
  settings: DatabaseSettings,
  migrations: Record<string, Migration>,
): Database<DB> {
  return new Database<DB>({
    url: settings.DATABASE_URL,
    migrationUrl: settings.DATABASE_MIGRATION_URL || undefined,
    pooler: settings.DATABASE_POOLER,
    applicationName: name,
    poolMax: settings.DATABASE_POOL_MAX,
    connectTimeoutMs: settings.DATABASE_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: settings.DATABASE_STATEMENT_TIMEOUT_MS,
    migrateAtStart: settings.DATABASE_MIGRATE_AT_START === 'true',
    migrations,
  });
}

/**
 * Provides the app's `Database`: connecting (and migrating) begins once the app is up, without
 * holding the start back; the pool closes after the HTTP server has let its requests finish.
 */
@Module({})
export class DatabaseModule
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  constructor(private readonly database: Database) {}

  static forRoot(
    name: string,
    settings: DatabaseSettings,
    migrations: Record<string, Migration>,
  ): DynamicModule {
    return {
      module: DatabaseModule,
      global: true,
      providers: [
        {
          provide: Database,
          useFactory: () => createDatabase(name, settings, migrations),
        },
      ],
      exports: [Database],
    };
  }

  onApplicationBootstrap(): void {
    this.database.start().catch((error: Error) => {
      // Another service's database: the service refuses to run on it, in one line.
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}

/**
 * `node dist/apps/<app>/main.js migrate`: applies pending migrations and exits, for a release
 * step (a Kubernetes Job, `npm run migrate`) while the apps run with DATABASE_MIGRATE_AT_START off.
 */
export async function migrateAndExit(
  name: string,
  settings: DatabaseSettings,
  migrations: Record<string, Migration>,
): Promise<never> {
  if (!settings.DATABASE_URL) {
    process.stderr.write(
      `${name}: DATABASE_URL is not set; nothing to migrate\n`,
    );
    process.exit(1);
  }
  const database = createDatabase(name, settings, migrations);
  try {
    const applied = await database.migrate();
    process.stdout.write(
      `${name}: ${applied.length > 0 ? `applied ${applied.join(', ')}` : 'up to date'}\n`,
    );
    await database.close();
    process.exit(0);
  } catch (error) {
    process.stderr.write(
      error instanceof ForeignDatabaseError
        ? `${error.message}\n`
        : `${name}: migration failed: ${withoutDatabaseUrl((error as Error).message)}\n`,
    );
    await database.close().catch(() => undefined);
    process.exit(1);
  }
}
