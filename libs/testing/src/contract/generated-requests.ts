import SwaggerParser from '@apidevtools/swagger-parser';
import { INestApplication } from '@nestjs/common';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { JSONSchemaFaker, type Schema } from 'json-schema-faker';
import type { OpenAPIV3 } from 'openapi-types';
import request from 'supertest';

/** A request some client could send by following the document: every part valid by it. */
export interface GeneratedRequest {
  route: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: unknown;
  contentType?: string;
}

/**
 * The schema as json-schema-faker draws from it: where a string has a format (email) and a
 * pattern, the generator follows the pattern and ignores the format, so the format leads and
 * Ajv then holds the value to both.
 */
function formatsFirst(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(formatsFirst);
  if (schema === null || typeof schema !== 'object') return schema;
  const entries = Object.entries(schema).map(([key, value]) => [
    key,
    formatsFirst(value),
  ]);
  const copy = Object.fromEntries(entries) as Record<string, unknown>;
  if ('format' in copy && 'pattern' in copy) delete copy.pattern;
  return copy;
}

/** A small seeded generator, so that a failing sweep fails again the same way. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` requests per operation that takes anything (parameters, a body), generated from the
 * document with json-schema-faker, as generative contract testing tools (Specmatic, Schemathesis)
 * do: optional parameters and members now present, now not; values anywhere in their ranges and
 * patterns. Each part is checked against its schema with Ajv, and a part the generator got wrong
 * is drawn again, so every request is valid by the document.
 */
export async function generatedRequests(
  document: OpenAPIV3.Document,
  { count = 20, seed = 1 }: { count?: number; seed?: number } = {},
): Promise<GeneratedRequest[]> {
  const resolved = (await SwaggerParser.dereference(
    structuredClone(document) as never,
  )) as OpenAPIV3.Document;
  const random = seeded(seed);
  JSONSchemaFaker.option({
    random,
    alwaysFakeOptionals: false,
    optionalsProbability: 0.5,
    fillProperties: false,
    failOnInvalidTypes: true,
  });
  const ajv = new Ajv({ strict: false });
  addFormats(ajv);
  /** A value valid by `schema`: drawn until Ajv agrees. */
  const draw = (schema: OpenAPIV3.SchemaObject, what: string): unknown => {
    const valid = ajv.compile(schema);
    const drawn = formatsFirst(schema) as Schema;
    for (let attempt = 0; attempt < 50; attempt++) {
      const value: unknown = JSONSchemaFaker.generate(drawn);
      if (valid(value)) return value;
    }
    throw new Error(`json-schema-faker drew no valid ${what} in 50 tries`);
  };
  const requests: GeneratedRequest[] = [];
  for (const [template, item] of Object.entries(resolved.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const operation = item?.[method];
      if (!operation) continue;
      const parameters = (operation.parameters ??
        []) as OpenAPIV3.ParameterObject[];
      const body = operation.requestBody as
        OpenAPIV3.RequestBodyObject | undefined;
      if (parameters.length === 0 && !body) continue;
      const route = `${method.toUpperCase()} ${template}`;
      for (let n = 0; n < count; n++) {
        let path = template;
        const query = new URLSearchParams();
        const headers: Record<string, string> = {};
        for (const parameter of parameters) {
          if (!parameter.required && random() < 0.5) continue;
          const value = String(
            draw(
              parameter.schema as OpenAPIV3.SchemaObject,
              `${parameter.in} ${parameter.name} of ${route}`,
            ),
          );
          if (parameter.in === 'path')
            path = path.replace(
              `{${parameter.name}}`,
              encodeURIComponent(value),
            );
          else if (parameter.in === 'query') query.set(parameter.name, value);
          else if (parameter.in === 'header') headers[parameter.name] = value;
        }
        const generated: GeneratedRequest = {
          route,
          method: method.toUpperCase(),
          path: query.size > 0 ? `${path}?${query}` : path,
          headers,
        };
        if (body) {
          const types = Object.keys(body.content);
          const contentType = types[Math.floor(random() * types.length)];
          generated.contentType = contentType;
          generated.body = draw(
            body.content[contentType].schema as OpenAPIV3.SchemaObject,
            `body of ${route}`,
          );
        }
        requests.push(generated);
      }
    }
  }
  return requests;
}

/**
 * Sends every generated request to the app and expects none refused as malformed (400) and none
 * failing (500): a client that follows the document is never told its request is wrong. What
 * the request asks may still be refused on its merits (404, 409, 412, 422, ...).
 */
export async function expectNoValidRequestRefused(
  app: INestApplication,
  document: OpenAPIV3.Document,
  options?: { count?: number; seed?: number },
): Promise<void> {
  const refused: string[] = [];
  const requests = await generatedRequests(document, options);
  for (const generated of requests) {
    let call = request(app.getHttpServer())
      [generated.method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete'](
        generated.path,
      )
      .set(generated.headers);
    if (generated.contentType)
      call = call
        .set('Content-Type', generated.contentType)
        .send(JSON.stringify(generated.body));
    const response = await call;
    if (response.status === 400 || response.status === 500)
      refused.push(
        `${generated.method} ${generated.path} ${JSON.stringify(generated.headers)} ${JSON.stringify(generated.body) ?? ''}: ${response.status} ${response.text}`,
      );
  }
  expect(requests.length).toBeGreaterThan(0);
  expect(refused).toEqual([]);
}
