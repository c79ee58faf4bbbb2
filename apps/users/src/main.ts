import './tracing';
import { createHttpApp, loadConfigOrExit, runHttpApp } from '@app/common';
import { stopTracing } from '@app/telemetry';
import { UsersAppModule } from './app.module';
import { UsersConfig } from './users.config';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit(UsersConfig);
  const app = await createHttpApp(UsersAppModule.forRoot(config));
  await runHttpApp(app, config.USERS_PORT, stopTracing);
}

void bootstrap();
