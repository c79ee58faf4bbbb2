import { INestApplication } from '@nestjs/common';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { OpenAPIV3 } from 'openapi-types';
import request from 'supertest';
import { responseValidator, ResponseValidator } from './openapi';

interface RecordedResponse {
  method: string;
  path: string;
  status: number;
  headers: ReturnType<ServerResponse['getHeaders']>;
  body: Buffer;
}

interface RecordedApp {
  validate: ResponseValidator;
  responses: RecordedResponse[];
}

let checking = false;
const apps: RecordedApp[] = [];
const validators = new Map<string, Promise<ResponseValidator>>();

/**
 * Checks every response that an app booted by `createTestApp` sends, whatever sent the request,
 * against that app's own OpenAPI document, after each test: a response that contradicts its
 * document fails the test that received it. Called once from the e2e projects' setup file.
 */
export function checkResponsesAgainstDocuments(): void {
  checking = true;
  afterEach(async () => {
    const failures: string[] = [];
    for (const app of apps) {
      const responses = app.responses.splice(0);
      if (responses.length === 0) continue;
      const { validate } = app;
      for (const response of responses) {
        try {
          validate(response.method, response.path, received(response));
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    }
    if (failures.length)
      throw new Error(
        `Responses that contradict the OpenAPI document:\n${failures.join('\n')}`,
      );
  });
}

/**
 * Records what an initialised `app` answers, from before any middleware of its own, for the check
 * above; reads its document now, while it is sure to be open.
 */
export async function recordResponses(app: INestApplication): Promise<void> {
  if (!checking) return;
  const server = app.getHttpServer() as Server;
  const recorded: RecordedApp = {
    validate: await validatorOf(app),
    responses: [],
  };
  apps.push(recorded);
  server.prependListener('request', (req, res) => {
    if (isDocsRequest(req)) return;
    const chunks: Buffer[] = [];
    const capture = (chunk: unknown, encoding?: unknown) => {
      if (chunk && typeof chunk !== 'function')
        chunks.push(
          Buffer.isBuffer(chunk)
            ? chunk
            : Buffer.from(
                chunk as string,
                typeof encoding === 'string'
                  ? (encoding as BufferEncoding)
                  : 'utf8',
              ),
        );
    };
    const write = res.write.bind(res);
    const end = res.end.bind(res);
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      capture(chunk, rest[0]);
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof res.write;
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      capture(chunk, rest[0]);
      return (end as (...args: unknown[]) => ServerResponse)(chunk, ...rest);
    }) as typeof res.end;
    res.once('finish', () => {
      const response: RecordedResponse = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        status: res.statusCode,
        headers: res.getHeaders(),
        body: Buffer.concat(chunks),
      };
      recorded.responses.push(response);
    });
  });
}

async function validatorOf(app: INestApplication): Promise<ResponseValidator> {
  const response = await request(app.getHttpServer()).get('/openapi.json');
  if (response.status !== 200)
    throw new Error(`No OpenAPI document: ${response.status}`);
  const text = response.text;
  let validator = validators.get(text);
  if (!validator) {
    validator = responseValidator(JSON.parse(text) as OpenAPIV3.Document);
    validators.set(text, validator);
  }
  return validator;
}

function received(response: RecordedResponse) {
  const type = response.headers['content-type'];
  const text = response.body.toString('utf8');
  const json = typeof type === 'string' && /[/+]json\b/.test(type);
  return {
    status: response.status,
    type: typeof type === 'string' ? type : undefined,
    body:
      response.method === 'HEAD' || text === ''
        ? undefined
        : json
          ? (JSON.parse(text) as unknown)
          : text,
    headers: response.headers,
  };
}

function isDocsRequest(req: IncomingMessage): boolean {
  return /^\/(docs|openapi\.json)(\/|\?|$)/.test(req.url ?? '');
}
