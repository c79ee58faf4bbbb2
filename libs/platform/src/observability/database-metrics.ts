import { Inject, Injectable, Optional } from '@nestjs/common';
import { Database } from '@app/storage';
import { Gauge, Registry } from 'prom-client';
import { METRICS_REGISTRY } from './metrics';

/**
 * With a database: whether it answers (`database_up`, asked at each scrape, as readiness asks)
 * and how full the pool is, so an operator sees a lost database or a starved pool on a graph and
 * can be paged for it. Without one, nothing is registered.
 */
@Injectable()
export class DatabaseMetrics {
  constructor(
    @Inject(METRICS_REGISTRY) registry: Registry,
    @Optional()
    @Inject(Database)
    database?: Pick<Database, 'status' | 'pool'>,
  ) {
    if (!database) return;
    new Gauge({
      name: 'database_up',
      help: "1 when the service's database answers a query, 0 when it does not",
      registers: [registry],
      async collect() {
        this.set((await database.status()).up ? 1 : 0);
      },
    });
    new Gauge({
      name: 'database_pool_connections',
      help: "Connections of the service's database pool, by state; waiting counts requests queued for one",
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const { used, idle, waiting } = database.pool;
        this.set({ state: 'used' }, used);
        this.set({ state: 'idle' }, idle);
        this.set({ state: 'waiting' }, waiting);
      },
    });
    new Gauge({
      name: 'database_pool_max',
      help: 'The most connections the pool opens (DATABASE_POOL_MAX)',
      registers: [registry],
      collect() {
        this.set(database.pool.max);
      },
    });
  }
}
