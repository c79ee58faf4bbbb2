import { createHttpApp, loadConfigOrExit } from '@app/common';
import { OrdersAppModule } from './app.module';
import { OrdersConfig } from './orders.config';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit(OrdersConfig);
  const app = await createHttpApp(OrdersAppModule.forRoot(config));
  await app.listen(config.ORDERS_PORT);
}

void bootstrap();
