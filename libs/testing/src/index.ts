export * from './built-app';
export * from './problem';
export * from './stand-in-server';
export * from './test-app';
export * from './test-config';
export * from './prometheus';
export * from './logs';
export * from './openapi';
