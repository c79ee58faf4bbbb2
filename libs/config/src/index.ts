export * from './compose-settings';
export * from './env.decorator';
export * from './field-errors';
export * from './load-config';
export * from './not-above.decorator';
