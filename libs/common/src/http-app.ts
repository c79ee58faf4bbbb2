import {
  HttpStatus,
  INestApplication,
  NestApplicationOptions,
  Type,
  DynamicModule,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { ProblemDetailsFilter } from './problem-details.filter';
import { ProblemException } from './problem.exception';
import { createValidationPipe } from './validation';

export const BODY_LIMIT = '100kb';
const JSON_TYPES = ['application/json', 'application/*+json'];

/** Options both `main.ts` and the e2e tests create the app with: we register the body parser ourselves. */
export const httpAppOptions: NestApplicationOptions = { bodyParser: false };

/**
 * Everything both apps set up around their modules, in one place, so that the e2e tests boot an
 * app exactly as production does.
 */
export function configureHttpApp<T extends INestApplication>(app: T): T {
  const express = app as unknown as NestExpressApplication;
  express.use(requireJsonBody);
  express.useBodyParser('json', { limit: BODY_LIMIT, type: JSON_TYPES });
  express.use(requireJsonObject);
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter());
  return app;
}

/** Creates a configured app for `main.ts`. */
export async function createHttpApp(
  module: Type | DynamicModule,
): Promise<INestApplication> {
  const app = await NestFactory.create(module, httpAppOptions);
  return configureHttpApp(app);
}

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Our POST bodies are JSON; a form or text body is refused up front instead of failing as
 * "missing fields". An empty body is left to validation, which names the missing fields.
 */
function requireJsonBody(
  request: Request,
  _response: Response,
  next: NextFunction,
): void {
  const hasBody =
    request.headers['transfer-encoding'] !== undefined ||
    Number(request.headers['content-length'] ?? 0) > 0;
  if (
    METHODS_WITH_BODY.has(request.method) &&
    hasBody &&
    !request.is(JSON_TYPES)
  ) {
    next(
      new ProblemException(
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        `Request body must be JSON (Content-Type: application/json), got ${request.headers['content-type'] ?? 'no Content-Type'}`,
      ),
    );
    return;
  }
  next();
}

/** The parser accepts arrays too; every body of ours is an object. */
function requireJsonObject(
  request: Request,
  _response: Response,
  next: NextFunction,
): void {
  const body: unknown = request.body;
  if (
    METHODS_WITH_BODY.has(request.method) &&
    body !== undefined &&
    (body === null || typeof body !== 'object' || Array.isArray(body))
  ) {
    next(
      new ProblemException(
        HttpStatus.BAD_REQUEST,
        'Request body must be a JSON object',
      ),
    );
    return;
  }
  next();
}
