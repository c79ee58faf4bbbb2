import type { OpenAPIV3 } from 'openapi-types';
import request from 'supertest';
import type { App } from 'supertest/types';

/** One request just inside or just outside one documented constraint. */
export interface ConstraintCase {
  title: string;
  method: string;
  /** With the query string. */
  path: string;
  headers: Record<string, string>;
  body?: unknown;
  /** By the document: true → not a 400; false → 400. */
  valid: boolean;
}

/** A request that the document accepts, for each operation that takes input; varied one part at a time. */
export interface Baseline {
  /** Path parameters. */
  params?: Record<string, string | number>;
  /** A fresh valid body on each call (one that creates, say, must not repeat a unique field). */
  body?: () => Record<string, unknown>;
  /** Headers every request of the operation needs, such as a precondition. */
  headers?: Record<string, string>;
}

let unique = 0;

/** A string of exactly `length` characters, different from every other one made here. */
function uniqueString(length: number): string {
  const stamp = (unique++).toString(36);
  return length <= stamp.length
    ? 'x'.repeat(length)
    : stamp.padStart(length, 'x');
}

/** A valid, unique email address of exactly `length` characters (domain labels of at most 63). */
function emailOfLength(length: number): string {
  const local = uniqueString(10);
  const labels: string[] = [];
  let rest = length - local.length - '@'.length - '.com'.length;
  while (rest > 63) {
    labels.push('d'.repeat(62));
    rest -= 63;
  }
  labels.push('d'.repeat(rest));
  return `${local}@${labels.join('.')}.com`;
}

type Value = { value: unknown; valid: boolean; why: string };

/** Values on each side of each constraint of `schema`; `typed` when a JSON body carries real types. */
function boundaryValues(
  schema: OpenAPIV3.SchemaObject,
  typed: boolean,
): Value[] {
  const values: Value[] = [];
  const text = (value: number | bigint) =>
    typed ? Number(value) : String(value);
  if (schema.type === 'integer' || schema.type === 'number') {
    if (schema.minimum !== undefined)
      values.push(
        {
          value: text(schema.minimum),
          valid: true,
          why: `minimum ${schema.minimum}`,
        },
        {
          value: text(schema.minimum - 1),
          valid: false,
          why: `below minimum ${schema.minimum}`,
        },
      );
    if (schema.maximum !== undefined)
      values.push(
        {
          value: text(BigInt(schema.maximum)),
          valid: true,
          why: `maximum ${schema.maximum}`,
        },
        {
          value: typed
            ? schema.maximum + 1
            : String(BigInt(schema.maximum) + 1n),
          valid: false,
          why: `above maximum ${schema.maximum}`,
        },
      );
    values.push({ value: 'one', valid: false, why: 'not a number' });
    if (schema.type === 'integer')
      values.push({
        value: typed ? 1.5 : '1.5',
        valid: false,
        why: 'not an integer',
      });
  }
  if (schema.type === 'string') {
    const make = (length: number) =>
      schema.format === 'email' ? emailOfLength(length) : uniqueString(length);
    if (schema.minLength !== undefined && schema.minLength > 0)
      values.push(
        {
          value: make(schema.minLength),
          valid: true,
          why: `minLength ${schema.minLength}`,
        },
        {
          value: ''.padEnd(schema.minLength - 1, 'x'),
          valid: false,
          why: `shorter than ${schema.minLength}`,
        },
      );
    if (schema.maxLength !== undefined)
      values.push(
        {
          value: make(schema.maxLength),
          valid: true,
          why: `maxLength ${schema.maxLength}`,
        },
        {
          value: make(schema.maxLength + 1),
          valid: false,
          why: `longer than ${schema.maxLength}`,
        },
      );
    if (schema.format === 'email')
      values.push({
        value: `${uniqueString(8)}.example.com`,
        valid: false,
        why: 'not an email',
      });
    if (schema.pattern !== undefined) {
      // A valid value with one character put in its middle, for each probe the pattern refuses.
      const pattern = new RegExp(schema.pattern, 'u');
      for (const probe of ['\u0000', '\n', '\u001f', '\u007f']) {
        const valid = make(Math.max(schema.minLength ?? 0, 24));
        const value = `${valid.slice(0, 2)}${probe}${valid.slice(2)}`;
        if (!pattern.test(value))
          values.push({
            value,
            valid: false,
            why: `with U+${probe.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}, against its pattern`,
          });
      }
    }
    if (typed) values.push({ value: 42, valid: false, why: 'not a string' });
  }
  return values;
}

/**
 * For every documented request constraint (type, minimum, maximum, length, format, required,
 * additionalProperties) of every operation, one request on each side of it, built from the document
 * itself, so that a constraint added to a DTO is tested without anyone writing the test.
 * `baselines` holds a valid request per `METHOD /path` that takes input; one missing is an error.
 */
export function requestConstraintCases(
  document: OpenAPIV3.Document,
  baselines: Record<string, Baseline>,
): ConstraintCase[] {
  const cases: ConstraintCase[] = [];
  for (const [template, item] of Object.entries(document.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const operation = item?.[method];
      if (!operation) continue;
      const route = `${method.toUpperCase()} ${template}`;
      const parameters = (operation.parameters ??
        []) as OpenAPIV3.ParameterObject[];
      const bodySchema = bodySchemaOf(document, operation);
      if (!parameters.length && !bodySchema) continue;
      const baseline = baselines[route];
      if (!baseline) throw new Error(`No baseline request for ${route}`);
      const request = (
        change: {
          params?: object;
          query?: object;
          headers?: object;
          body?: (body: Record<string, unknown>) => unknown;
        } = {},
      ) => {
        const params = { ...baseline.params, ...change.params } as Record<
          string,
          unknown
        >;
        const path = template.replace(/\{(\w+)\}/g, (_, name: string) =>
          encodeURIComponent(String(params[name])),
        );
        const query = new URLSearchParams(
          change.query as Record<string, string>,
        ).toString();
        const body = baseline.body?.();
        return {
          method: method.toUpperCase(),
          path: query ? `${path}?${query}` : path,
          headers: { ...baseline.headers, ...change.headers } as Record<
            string,
            string
          >,
          body: body && change.body ? change.body(body) : body,
        };
      };
      for (const parameter of parameters) {
        const schema = parameter.schema as OpenAPIV3.SchemaObject;
        const where = { path: 'params', query: 'query', header: 'headers' }[
          parameter.in as 'path' | 'query' | 'header'
        ] as 'params' | 'query' | 'headers';
        for (const { value, valid, why } of boundaryValues(schema, false))
          cases.push({
            title: `${route}: ${parameter.in} ${parameter.name} ${why}`,
            ...request({ [where]: { [parameter.name]: value } }),
            valid,
          });
      }
      if (!bodySchema) continue;
      for (const [name, property] of Object.entries(
        bodySchema.properties ?? {},
      )) {
        for (const { value, valid, why } of boundaryValues(
          property as OpenAPIV3.SchemaObject,
          true,
        ))
          cases.push({
            title: `${route}: body ${name} ${why}`,
            ...request({ body: (body) => ({ ...body, [name]: value }) }),
            valid,
          });
      }
      for (const name of bodySchema.required ?? [])
        cases.push({
          title: `${route}: body without required ${name}`,
          ...request({
            body: (body) =>
              Object.fromEntries(
                Object.entries(body).filter(([key]) => key !== name),
              ),
          }),
          valid: false,
        });
      if (bodySchema.additionalProperties === false)
        cases.push({
          title: `${route}: body with a field not in its schema`,
          ...request({ body: (body) => ({ ...body, unexpected: 1 }) }),
          valid: false,
        });
      cases.push({
        title: `${route}: the baseline`,
        ...request(),
        valid: true,
      });
    }
  }
  return cases;
}

function bodySchemaOf(
  document: OpenAPIV3.Document,
  operation: OpenAPIV3.OperationObject,
): OpenAPIV3.SchemaObject | undefined {
  const body = operation.requestBody as OpenAPIV3.RequestBodyObject | undefined;
  const schema = body?.content['application/json']?.schema;
  if (!schema) return undefined;
  if (!('$ref' in schema)) return schema;
  return document.components?.schemas?.[
    schema.$ref.split('/').pop()!
  ] as OpenAPIV3.SchemaObject;
}

/**
 * Sends each case, one after another, and lists those not answered as the document says: a 400
 * for a value outside a constraint, anything but a 400 (or a 5xx) inside. What each answer holds is
 * checked against the document by the e2e response check.
 */
export async function unexpectedAnswers(
  server: App,
  cases: ConstraintCase[],
): Promise<string[]> {
  const wrong: string[] = [];
  for (const test of cases) {
    let call = request(server)[
      test.method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete'
    ](test.path);
    for (const [name, value] of Object.entries(test.headers))
      call = call.set(name, value);
    const { status, body } = await (test.body === undefined
      ? call
      : call.send(test.body as object));
    const right = test.valid ? status !== 400 && status < 500 : status === 400;
    if (!right)
      wrong.push(
        `${test.title}: expected ${test.valid ? 'not 400' : '400'}, got ${status} ${JSON.stringify(body)}`,
      );
  }
  return wrong;
}
