import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { INestApplication } from '@nestjs/common';
import type { OpenAPIV3 } from 'openapi-types';
import request from 'supertest';

/** The app's /openapi.json, checked to be a valid OpenAPI 3 document. */
export async function validOpenApiDocument(
  app: INestApplication,
): Promise<OpenAPIV3.Document> {
  const response = await request(app.getHttpServer())
    .get('/openapi.json')
    .expect(200);
  const document = response.body as OpenAPIV3.Document;
  expect(document.openapi).toMatch(/^3\./);
  // validate() dereferences in place; it gets a copy.
  await SwaggerParser.validate(structuredClone(document) as never);
  return document;
}

/** `METHOD /path` → its documented statuses, `{id}` style paths, for comparing with expectations. */
export function documentedStatuses(
  document: OpenAPIV3.Document,
): Record<string, string[]> {
  const routes: Record<string, string[]> = {};
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const operation = item?.[method];
      if (operation)
        routes[`${method.toUpperCase()} ${path}`] = Object.keys(
          operation.responses,
        ).sort();
    }
  }
  return routes;
}

/** `METHOD /path` → its operationId, for comparing with the names clients are generated with. */
export function operationIds(
  document: OpenAPIV3.Document,
): Record<string, string | undefined> {
  const ids: Record<string, string | undefined> = {};
  for (const [route, operation] of operations(document))
    ids[route] = operation.operationId;
  return ids;
}

function operations(
  document: OpenAPIV3.Document,
): [string, OpenAPIV3.OperationObject][] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    (['get', 'post', 'put', 'patch', 'delete'] as const)
      .filter((method) => item?.[method])
      .map((method): [string, OpenAPIV3.OperationObject] => [
        `${method.toUpperCase()} ${path}`,
        item![method]!,
      ]),
  );
}

/**
 * What client generators need of a document, whatever the service: a base URL, named operations
 * with their path parameters first, every tag described, every response described, every schema
 * named (no `Dto` suffixes, no anonymous bodies), the bearer scheme declared and each operation's
 * security said (`[]` when open), and no empty contact.
 */
export function expectReadyForGenerators(document: OpenAPIV3.Document): void {
  expect(document.servers?.length).toBeGreaterThan(0);
  expect(document.info.contact).toBeUndefined();
  expect(document.components?.securitySchemes?.bearer).toMatchObject({
    type: 'http',
    scheme: 'bearer',
  });
  const described = new Map(
    (document.tags ?? []).map((tag) => [tag.name, tag.description]),
  );
  const problems: string[] = [];
  for (const [route, operation] of operations(document)) {
    if (!operation.operationId) problems.push(`${route}: no operationId`);
    if (!operation.security) problems.push(`${route}: no security`);
    for (const tag of operation.tags ?? [])
      if (!described.get(tag))
        problems.push(`${route}: tag ${tag} undescribed`);
    const kinds = (operation.parameters ?? []).map((parameter) =>
      'in' in parameter ? parameter.in : '$ref',
    );
    const firstOther = kinds.findIndex((kind) => kind !== 'path');
    if (firstOther >= 0 && kinds.slice(firstOther).includes('path'))
      problems.push(`${route}: a path parameter after ${kinds[firstOther]}`);
    for (const [status, response] of Object.entries(operation.responses)) {
      if ('$ref' in response) continue;
      if (!response.description?.trim())
        problems.push(`${route} ${status}: no description`);
      for (const [type, media] of Object.entries(response.content ?? {}))
        if (type.endsWith('json') && media.schema && !('$ref' in media.schema))
          problems.push(`${route} ${status}: an anonymous ${type} schema`);
    }
  }
  for (const name of Object.keys(document.components?.schemas ?? {}))
    if (name.endsWith('Dto')) problems.push(`schema ${name} ends in Dto`);
  expect(problems).toEqual([]);
}

/** Asserts the document lists exactly the routes the app serves (its own docs routes aside). */
export function expectEveryServedRouteDocumented(
  app: INestApplication,
  document: OpenAPIV3.Document,
): void {
  const documented = Object.keys(documentedStatuses(document)).sort();
  const served = servedRoutes(app).filter(
    (route) => !/ \/(docs|openapi)/.test(route),
  );
  expect(documented).toEqual(served.sort());
}

/** `METHOD /path` of every endpoint the app serves, from Express's route table, `{id}` style. */
function servedRoutes(app: INestApplication): string[] {
  const router = (
    app.getHttpAdapter().getInstance() as { router: { stack: RouteLayer[] } }
  ).router;
  return router.stack
    .filter(
      (layer) => layer.route && Object.keys(layer.route.methods).length === 1,
    )
    .map((layer) => {
      const method = Object.keys(layer.route!.methods)[0].toUpperCase();
      return `${method} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`;
    });
}

interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

export interface ReceivedResponse {
  status: number;
  /** The Content-Type header, parameters included. */
  type?: string | null;
  /** The parsed JSON body, or the text for other types. */
  body: unknown;
  /** Response headers, names in lower case; when given, the client headers are checked too. */
  headers?: Record<string, string | string[] | number | undefined>;
}

export type ResponseValidator = (
  method: string,
  path: string,
  response: ReceivedResponse,
) => void;

/** The response headers a client reads: each one sent must be documented for that answer. */
const CLIENT_HEADERS = [
  'x-request-id',
  'retry-after',
  'idempotent-replayed',
  'www-authenticate',
];

/**
 * Checks responses against the app's own document, with Ajv (OpenAPI 3.0 schemas, `nullable`
 * included): the status is documented for the route, the content type is one documented for it,
 * the body matches that schema, and the client headers sent are the documented ones. Throws,
 * naming the route and every mismatch, when one does not.
 *
 * OpenAPI validators such as openapi-backend check `application/json` bodies only and let an
 * undocumented status pass, which is most of what this must catch; so this composes the two parts
 * they are built on, swagger-parser's dereferencing and Ajv.
 */
export async function responseValidator(
  document: OpenAPIV3.Document,
): Promise<ResponseValidator> {
  const resolved = withNullAsType(
    (await SwaggerParser.dereference(
      structuredClone(document) as never,
    )) as OpenAPIV3.Document,
  );
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const compiled = new WeakMap<object, ValidateFunction>();
  const compile = (schema: object) => {
    let validate = compiled.get(schema);
    if (!validate) compiled.set(schema, (validate = ajv.compile(schema)));
    return validate;
  };
  const templates = Object.keys(resolved.paths).map((template) => ({
    template,
    pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
  }));
  const problemSchema = resolved.components?.schemas?.ProblemDetails;
  const checkProblem = (where: string, response: ReceivedResponse) => {
    if (!problemSchema) throw new Error('No ProblemDetails in the document');
    if (response.type?.split(';')[0] !== 'application/problem+json')
      throw new Error(`${where}: not a problem: ${response.type}`);
    const validate = compile(problemSchema);
    if (!validate(response.body))
      throw new Error(
        `${where}: not a problem: ${ajv.errorsText(validate.errors)}`,
      );
  };
  return (method, path, response) => {
    const pathOnly = path.split('?')[0];
    const template = templates.find(({ pattern }) =>
      pattern.test(pathOnly),
    )?.template;
    const where = `${method.toUpperCase()} ${path} → ${response.status}`;
    const operation = template
      ? resolved.paths[template]?.[
          method.toLowerCase() as OpenAPIV3.HttpMethods
        ]
      : undefined;
    if (!operation) {
      // No operation to check against: the router's own answers, which are still problems.
      if (method.toUpperCase() === 'OPTIONS' && response.status === 204) return; // a CORS preflight, answered before routing
      if (
        (response.status === 404 && !template) ||
        (response.status === 405 && template)
      )
        return checkProblem(where, response);
      throw new Error(
        `${where}: ${template ? 'method' : 'path'} not in the document`,
      );
    }
    const documented = (operation.responses[String(response.status)] ??
      operation.responses.default) as OpenAPIV3.ResponseObject | undefined;
    if (!documented) throw new Error(`${where}: status not documented`);
    if (response.headers) checkHeaders(where, documented, response.headers);
    const type = response.type?.split(';')[0].trim();
    const hasBody =
      response.body !== undefined &&
      response.body !== '' &&
      !(
        typeof response.body === 'object' &&
        response.body !== null &&
        Object.keys(response.body).length === 0 &&
        !type
      );
    if (!documented.content) {
      if (hasBody) throw new Error(`${where}: a body where none is documented`);
      return;
    }
    const media = type ? documented.content[type] : undefined;
    if (!media)
      throw new Error(
        `${where}: content type ${type} not documented (${Object.keys(documented.content).join(', ')})`,
      );
    if (!media.schema) return;
    const validate = compile(media.schema);
    if (!validate(response.body)) {
      throw new Error(
        `${where}: body does not match the document: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(response.body)}`,
      );
    }
  };
}

function checkHeaders(
  where: string,
  documented: OpenAPIV3.ResponseObject,
  headers: NonNullable<ReceivedResponse['headers']>,
): void {
  const declared = new Map(
    Object.entries(documented.headers ?? {}).map(([name, header]) => [
      name.toLowerCase(),
      header as OpenAPIV3.HeaderObject,
    ]),
  );
  for (const name of CLIENT_HEADERS) {
    const value = headers[name];
    const header = declared.get(name);
    if (value === undefined) {
      if (header?.required) throw new Error(`${where}: no ${name} header`);
      continue;
    }
    if (!header) throw new Error(`${where}: header ${name} not documented`);
    const schema = header.schema as OpenAPIV3.SchemaObject | undefined;
    const text = String(value);
    if (
      (schema?.type === 'integer' && !/^\d+$/.test(text)) ||
      (schema?.enum && !schema.enum.includes(text))
    )
      throw new Error(
        `${where}: header ${name}: ${text} does not match ${JSON.stringify(schema)}`,
      );
  }
}

/**
 * OpenAPI 3.0's `nullable: true` said as JSON Schema, which Ajv checks: the schema, or null. Ajv's
 * own `nullable` needs a `type` beside it, which a nullable reference (`allOf` of a `$ref`) has not.
 */
function withNullAsType<T>(value: T, seen = new WeakMap<object, unknown>()): T {
  if (Array.isArray(value))
    return value.map((item: unknown) => withNullAsType(item, seen)) as T;
  if (value === null || typeof value !== 'object') return value;
  // Dereferenced documents share (and may cycle through) their schemas.
  if (seen.has(value)) return seen.get(value) as T;
  const { nullable, ...rest } = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  const result = nullable === true ? { anyOf: [copy, { type: 'null' }] } : copy;
  seen.set(value, result);
  for (const [key, item] of Object.entries(rest))
    copy[key] = withNullAsType(item, seen);
  return result as T;
}
