export * from './orders.dto';
export * from './pagination.dto';
export * from './problem.dto';
export * from './problem.exception';
export * from './users.dto';
