export * from './config';
export * from './http-app';
export * from './id-param.decorator';
export * from './problem-details.filter';
export * from './problem.exception';
export * from './validation';
