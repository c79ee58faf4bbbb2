import { applyDecorators, INestApplication } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiParam,
  ApiResponse,
  DocumentBuilder,
  getSchemaPath,
  SwaggerModule,
} from '@nestjs/swagger';
import { ProblemDetailsDto } from '@app/contracts';
import { PROBLEM_CONTENT_TYPE } from './problem-details.filter';

export const DOCS_PATH = 'docs';
export const OPENAPI_PATH = 'openapi.json';

/** Error answers of a route (or of every route of a controller), each an RFC 9457 problem. */
export function ApiProblems(descriptions: Record<number, string>) {
  return applyDecorators(
    ApiExtraModels(ProblemDetailsDto),
    ...Object.entries(descriptions).map(([status, description]) =>
      ApiResponse({
        status: Number(status),
        description,
        content: {
          [PROBLEM_CONTENT_TYPE]: {
            schema: { $ref: getSchemaPath(ProblemDetailsDto) },
          },
        },
      }),
    ),
  );
}

/** What any route may answer besides its own: a rate limit, if one is set, and a fault of ours. */
export const ApiCommonProblems = () =>
  ApiProblems({
    429: 'Too many requests from this client (only when RATE_LIMIT_PER_MINUTE is set); see Retry-After',
    500: 'An unexpected fault of the service',
  });

/** The `:id` of a route, read by `@IdParam()`. */
export const ApiIdParam = (description: string) =>
  ApiParam({
    name: 'id',
    description,
    schema: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
  });

/** Swagger UI at /docs and the OpenAPI document at /openapi.json. */
export function setupApiDocs(
  app: INestApplication,
  service: string,
  description: string,
): void {
  const config = new DocumentBuilder()
    .setTitle(`${service} service`)
    .setDescription(description)
    .setVersion('0.1.0')
    .build();
  SwaggerModule.setup(
    DOCS_PATH,
    app,
    () => SwaggerModule.createDocument(app, config),
    {
      jsonDocumentUrl: OPENAPI_PATH,
      raw: ['json'],
    },
  );
}
