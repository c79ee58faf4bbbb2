export * from './idempotency.interceptor';
export * from './idempotency.store';
export * from './idempotent.decorator';
export * from './postgres-idempotency.store';
