import { DynamicModule, Module } from '@nestjs/common';
import { storeProvider } from '@app/storage';
import type { IdempotencyDatabase } from './idempotency.migration';
import { IdempotencyInterceptor } from './idempotency.interceptor';
import { IdempotencySettings } from './idempotency.settings';
import { IdempotencyStore } from './idempotency.store';
import { InMemoryIdempotencyStore } from './in-memory-idempotency.store';
import { PostgresIdempotencyStore } from './postgres-idempotency.store';

/**
 * `Idempotency-Key` on the routes marked `@Idempotent()`: keys in the service's database when it
 * has one (shared by its replicas), else in process memory. Global, so any controller's
 * `@Idempotent()` finds the interceptor.
 */
@Module({})
export class IdempotencyModule {
  static forRoot(settings: IdempotencySettings): DynamicModule {
    return {
      module: IdempotencyModule,
      global: true,
      providers: [
        storeProvider<IdempotencyStore, IdempotencyDatabase>(IdempotencyStore, {
          postgres: (database) =>
            new PostgresIdempotencyStore(database, settings),
          memory: () => new InMemoryIdempotencyStore(settings),
        }),
        IdempotencyInterceptor,
      ],
      exports: [IdempotencyStore, IdempotencyInterceptor],
    };
  }
}
