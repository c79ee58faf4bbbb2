import type { NextFunction, Request, Response } from 'express';

export type Middleware = (
  request: Request,
  response: Response,
  next: NextFunction,
) => void;

/**
 * Middleware run one after the other as a single Express layer; an error skips the rest. Express
 * matches every layer against every request, so steps that always run together share one.
 */
export function inSequence(...steps: Middleware[]): Middleware {
  return (request, response, next) => {
    let index = 0;
    const step = (error?: unknown): void => {
      if (error !== undefined || index === steps.length) next(error);
      else steps[index++](request, response, step);
    };
    step();
  };
}
