import { applyDecorators, INestApplication } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiParam,
  ApiResponse,
  DocumentBuilder,
  getSchemaPath,
  SwaggerModule,
} from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import { AuthSettings, authEnabled, withSecurity } from '@app/auth';
import { ProblemDetailsDto } from '@app/contracts';
import { describeIdempotencyKeys, IdempotencySettings } from '@app/idempotency';
import { SERVICE, type ServiceDefinition } from '../app/service-definition';
import { PlatformSettings } from '../config/platform.settings';
import { PROBLEM_CONTENT_TYPE } from '../errors/problem-details.filter';

export const DOCS_PATH = 'docs';
const OPENAPI_PATH = 'openapi.json';

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

/** The routes every service has, in the tag the chassis gives them. */
const OPERATIONS_TAG = {
  operations:
    'For platforms and operators: liveness, readiness and Prometheus metrics.',
};

/** Swagger UI at /docs and the OpenAPI document at /openapi.json. */
export function setupApiDocs(app: INestApplication): void {
  const service = app.get<ServiceDefinition>(SERVICE);
  const settings = app.get(PlatformSettings);
  const builder = new DocumentBuilder()
    .setTitle(`${service.name} service`)
    .setDescription(service.description)
    .setVersion('0.1.0')
    .addServer(
      settings.API_PUBLIC_URL || '/',
      settings.API_PUBLIC_URL
        ? `The ${service.name} service`
        : `The ${service.name} service, where this document was fetched from`,
    );
  for (const [name, description] of Object.entries({
    ...service.apiTags,
    ...OPERATIONS_TAG,
  }))
    builder.addTag(name, description);
  const config = builder.build();
  // An empty contact says nothing; a client generator reads it as a real one.
  delete config.info.contact;
  SwaggerModule.setup(
    DOCS_PATH,
    app,
    () =>
      withOrderedParameters(
        withMergePatches(
          withResponseHeaders(
            describeIdempotencyKeys(
              withSecurity(
                withClosedRequestBodies(
                  SwaggerModule.createDocument(app, config),
                ),
                authEnabled(app.get(AuthSettings)),
              ),
              app.get(IdempotencySettings),
            ),
          ),
        ),
      ),
    {
      jsonDocumentUrl: OPENAPI_PATH,
      raw: ['json'],
    },
  );
}

const RETRY_AFTER = {
  description: 'Seconds to wait before trying again',
  schema: { type: 'integer', minimum: 0 },
};

/**
 * Declares the response headers a client reads, on every answer that carries them: one place for
 * all routes, so that a new route cannot forget them. An `Idempotency-Key` route is recognised by
 * its documented request header (see `@Idempotent()`).
 */
function withResponseHeaders(document: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(document.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const operation = item[method];
      if (!operation) continue;
      const idempotent = (operation.parameters ?? []).some(
        (parameter) =>
          'in' in parameter &&
          parameter.in === 'header' &&
          parameter.name.toLowerCase() === 'idempotency-key',
      );
      for (const [status, response] of Object.entries(operation.responses)) {
        if (!response || '$ref' in response) continue;
        const headers: NonNullable<typeof response.headers> = {
          'X-Request-Id': {
            description:
              "The request's id: the client's X-Request-Id if it sent a sane one, else a new UUID. It is in every log line of the request.",
            required: true,
            schema: { type: 'string' },
          },
        };
        if (
          status === '429' ||
          status === '503' ||
          (idempotent && status === '409')
        )
          headers['Retry-After'] = RETRY_AFTER;
        if (idempotent && status.startsWith('2'))
          headers['Idempotent-Replayed'] = {
            description:
              'Present when this is the stored answer to an earlier request with the same Idempotency-Key',
            schema: { type: 'string', enum: ['true'] },
          };
        response.headers = { ...response.headers, ...headers };
      }
    }
  }
  return document;
}

/**
 * The validation pipe refuses unknown fields in every body (see createValidationPipe), so each
 * request body schema says so too; a generated client then refuses them before sending.
 */
function withClosedRequestBodies(document: OpenAPIObject): OpenAPIObject {
  const schemas = document.components?.schemas ?? {};
  for (const item of Object.values(document.paths)) {
    for (const method of ['post', 'put', 'patch'] as const) {
      const body = item[method]?.requestBody;
      if (!body || '$ref' in body) continue;
      for (const media of Object.values(body.content)) {
        const ref = media.schema && '$ref' in media.schema && media.schema.$ref;
        const schema = ref ? schemas[ref.split('/').pop()!] : undefined;
        if (schema && !('$ref' in schema)) schema.additionalProperties = false;
      }
    }
  }
  return document;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
const PARAMETER_ORDER = ['path', 'query', 'header', 'cookie'];

/**
 * Path parameters first, then query, header and cookie ones: generated clients take them as
 * positional arguments in the document's order, and `updateUser(id, ifMatch, body)` reads as the
 * route does; decorators list them in whatever order they were written.
 */
function withOrderedParameters(document: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(document.paths))
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation?.parameters) continue;
      const rank = (parameter: (typeof operation.parameters)[number]) =>
        'in' in parameter ? PARAMETER_ORDER.indexOf(parameter.in) : 0;
      operation.parameters = [...operation.parameters].sort(
        (a, b) => rank(a) - rank(b),
      );
    }
  return document;
}

/**
 * A JSON Merge Patch (RFC 7396) body changes at least one member: the routes refuse an empty one
 * (400), so the schema says `minProperties: 1` and a client that follows it never sends one.
 */
function withMergePatches(document: OpenAPIObject): OpenAPIObject {
  const schemas = document.components?.schemas ?? {};
  for (const item of Object.values(document.paths)) {
    const body = item.patch?.requestBody;
    if (!body || '$ref' in body) continue;
    const patch = body.content['application/merge-patch+json']?.schema;
    const ref = patch && '$ref' in patch ? patch.$ref : undefined;
    const schema = ref ? schemas[ref.split('/').pop()!] : undefined;
    if (schema && !('$ref' in schema)) schema.minProperties = 1;
  }
  return document;
}
