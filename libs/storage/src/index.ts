export * from './memory/in-memory-table';
export * from './postgres/database';
export * from './postgres/database.module';
export * from './postgres/database.settings';
export * from './postgres/errors';
export * from './postgres/id-counters';
export * from './postgres/schema-columns';
