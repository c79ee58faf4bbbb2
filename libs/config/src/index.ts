export * from './compose-settings';
export * from './env.decorators';
export * from './field-errors';
export * from './load-config';
export * from './not-above.decorator';
