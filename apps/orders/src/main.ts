import './tracing';
import { createHttpApp, loadConfigOrExit, runHttpApp } from '@app/common';
import { migrateAndExit } from '@app/database';
import { stopTracing } from '@app/telemetry';
import { OrdersAppModule } from './app.module';
import { OrdersConfig } from './orders.config';
import { ORDERS_MIGRATIONS } from './orders/migrations';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit(OrdersConfig);
  if (process.argv[2] === 'migrate')
    return migrateAndExit('orders', config, ORDERS_MIGRATIONS);
  const app = await createHttpApp(OrdersAppModule.forRoot(config));
  await runHttpApp(app, config.ORDERS_PORT, stopTracing);
}

void bootstrap();
