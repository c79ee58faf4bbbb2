import { EnvInt, ServiceConfig } from '@app/common';
import { IsInt, IsUrl, Max, Min } from 'class-validator';

/** The orders app's environment; see the README for each variable. */
export class OrdersConfig extends ServiceConfig {
  @EnvInt()
  @Max(65535)
  @Min(1)
  @IsInt()
  ORDERS_PORT = 5002;

  @IsUrl({
    protocols: ['http', 'https'],
    require_protocol: true,
    require_tld: false,
  })
  USERS_SERVICE_URL = 'http://localhost:5001';

  @EnvInt()
  @Max(60_000)
  @Min(1)
  @IsInt()
  USERS_SERVICE_TIMEOUT_MS = 2000;
}
