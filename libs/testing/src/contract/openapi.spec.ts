import type { OpenAPIV3 } from 'openapi-types';
import { ReceivedResponse, responseValidator } from './openapi';

const problem = {
  'application/problem+json': {
    schema: { $ref: '#/components/schemas/ProblemDetails' },
  },
};
const requestId: Record<string, OpenAPIV3.HeaderObject> = {
  'X-Request-Id': { required: true, schema: { type: 'string' } },
};

const document: OpenAPIV3.Document = {
  openapi: '3.0.0',
  info: { title: 't', version: '1' },
  paths: {
    '/things/{id}': {
      get: {
        responses: {
          '200': {
            description: 'a thing',
            headers: requestId,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['name'],
                  additionalProperties: false,
                  properties: { name: { type: 'string' } },
                },
              },
            },
          },
          '503': {
            description: 'down',
            headers: {
              ...requestId,
              'Retry-After': { schema: { type: 'integer' } },
            },
            content: problem,
          },
        },
      },
    },
  },
  components: {
    schemas: {
      ProblemDetails: {
        type: 'object',
        required: ['status', 'title'],
        properties: { status: { type: 'integer' }, title: { type: 'string' } },
      },
    },
  },
};

const ok: ReceivedResponse = {
  status: 200,
  type: 'application/json; charset=utf-8',
  body: { name: 'a' },
  headers: { 'x-request-id': 'r1' },
};
const down: ReceivedResponse = {
  status: 503,
  type: 'application/problem+json',
  body: { status: 503, title: 'Down' },
  headers: { 'x-request-id': 'r1', 'retry-after': '1' },
};

describe('responseValidator', () => {
  let check: Awaited<ReturnType<typeof responseValidator>>;
  beforeAll(async () => {
    check = await responseValidator(document);
  });

  it('accepts answers as documented', () => {
    expect(() => check('GET', '/things/1', ok)).not.toThrow();
    expect(() => check('GET', '/things/1?x=1', down)).not.toThrow();
  });

  it.each<[string, string, string, ReceivedResponse, RegExp]>([
    [
      'an undocumented status',
      'GET',
      '/things/1',
      { ...ok, status: 201 },
      /status not documented/,
    ],
    [
      'an undocumented content type',
      'GET',
      '/things/1',
      { ...ok, type: 'text/plain' },
      /content type text\/plain not documented/,
    ],
    [
      'a body off its schema',
      'GET',
      '/things/1',
      { ...ok, body: { name: 1 } },
      /does not match the document/,
    ],
    [
      'an unknown field',
      'GET',
      '/things/1',
      { ...ok, body: { name: 'a', extra: 1 } },
      /does not match the document/,
    ],
    [
      'an undocumented client header',
      'GET',
      '/things/1',
      { ...ok, headers: { 'x-request-id': 'r', 'retry-after': '1' } },
      /header retry-after not documented/,
    ],
    [
      'a required header missing',
      'GET',
      '/things/1',
      { ...ok, headers: {} },
      /no x-request-id header/,
    ],
    [
      'a header off its schema',
      'GET',
      '/things/1',
      { ...down, headers: { 'x-request-id': 'r', 'retry-after': 'soon' } },
      /header retry-after: soon/,
    ],
    [
      'an unknown path answered 200',
      'GET',
      '/other',
      ok,
      /path not in the document/,
    ],
    [
      'an undocumented method answered 200',
      'POST',
      '/things/1',
      ok,
      /method not in the document/,
    ],
    [
      'a router 404 that is not a problem',
      'GET',
      '/other',
      { ...ok, status: 404 },
      /not a problem/,
    ],
    [
      'a 405 whose body is not a problem',
      'DELETE',
      '/things/1',
      { ...down, status: 405, body: { title: 1 } },
      /not a problem/,
    ],
  ])('refuses %s', (_what, method, path, response, message) => {
    expect(() => check(method, path, response)).toThrow(message);
  });

  it("checks the router's 404 and 405 as problems", () => {
    expect(() =>
      check('GET', '/other', {
        ...down,
        status: 404,
        body: { status: 404, title: 'Not Found' },
      }),
    ).not.toThrow();
    expect(() =>
      check('DELETE', '/things/1', {
        ...down,
        status: 405,
        body: { status: 405, title: 'Method Not Allowed' },
      }),
    ).not.toThrow();
  });
});
