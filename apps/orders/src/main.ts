import './tracing';
import { createHttpApp, loadConfigOrExit, runHttpApp } from '@app/common';
import { stopTracing } from '@app/telemetry';
import { OrdersAppModule } from './app.module';
import { OrdersConfig } from './orders.config';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit(OrdersConfig);
  const app = await createHttpApp(OrdersAppModule.forRoot(config));
  await runHttpApp(app, config.ORDERS_PORT, stopTracing);
}

void bootstrap();
