import { createHttpApp, loadConfigOrExit } from '@app/common';
import { UsersAppModule } from './app.module';
import { UsersConfig } from './users.config';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit(UsersConfig);
  const app = await createHttpApp(UsersAppModule.forRoot(config));
  await app.listen(config.USERS_PORT);
}

void bootstrap();
