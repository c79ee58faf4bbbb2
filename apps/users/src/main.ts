import './tracing';
import { createHttpApp, loadConfigOrExit, runHttpApp } from '@app/common';
import { migrateAndExit } from '@app/database';
import { stopTracing } from '@app/telemetry';
import { UsersAppModule } from './app.module';
import { UsersConfig } from './users.config';
import { USERS_MIGRATIONS } from './users/migrations';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit(UsersConfig);
  if (process.argv[2] === 'migrate')
    return migrateAndExit('users', config, USERS_MIGRATIONS);
  const app = await createHttpApp(UsersAppModule.forRoot(config));
  await runHttpApp(app, config.USERS_PORT, stopTracing);
}

void bootstrap();
