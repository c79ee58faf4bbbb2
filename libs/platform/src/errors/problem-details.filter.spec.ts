import { AuthError } from '@app/auth';
import { ProblemException } from '@app/contracts';
import { StoreUnavailableError } from '@app/storage';
import {
  BadRequestException,
  Controller,
  Get,
  HttpException,
  INestApplication,
  LoggerService,
  Post,
  Put,
  Res,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Response } from 'express';
import request from 'supertest';
import { requestChecks } from '../http/request-checks';
import { ProblemDetailsFilter } from './problem-details.filter';

/** What the app logged, by level: each call's arguments (message, then stack and context). */
class RecordedLogs implements LoggerService {
  readonly calls: { level: string; args: unknown[] }[] = [];
  log(...args: unknown[]) {
    this.calls.push({ level: 'log', args });
  }
  warn(...args: unknown[]) {
    this.calls.push({ level: 'warn', args });
  }
  error(...args: unknown[]) {
    this.calls.push({ level: 'error', args });
  }
  /** What the filter said: its own lines, not the framework's. */
  fromFilter() {
    return this.calls.filter(({ args }) => args.at(-1) === 'ProblemDetails');
  }
}

@Controller('fail')
class FailingController {
  @Get('store')
  store() {
    throw new StoreUnavailableError('no connection');
  }

  @Get('keys')
  keys() {
    throw AuthError.keysUnavailable();
  }

  @Get('token')
  token() {
    throw AuthError.tokenMissing('test');
  }

  @Get('bug')
  bug() {
    throw new Error('a bug with internals');
  }

  @Get('problem')
  problem() {
    throw new ProblemException(502, 'The users service is down', {
      headers: { 'Retry-After': '3' },
    });
  }

  @Get('http-500')
  http500() {
    throw new HttpException('internals of a 500', 500);
  }

  @Get('http-499')
  http499() {
    throw new HttpException('the client went away', 499);
  }

  @Get('list')
  list() {
    throw new BadRequestException(['a is wrong', 'b is wrong']);
  }

  @Get('object')
  object() {
    throw new HttpException({ code: 7 }, 409);
  }

  @Get('partial')
  partial(@Res() response: Response) {
    response.status(200).write('the first part');
    throw new Error('after the head left');
  }

  @Post('echo')
  echo() {
    return { ok: true };
  }

  @Put('echo')
  replace() {
    return { ok: true };
  }
}

describe('ProblemDetailsFilter', () => {
  let app: INestApplication;
  let logs: RecordedLogs;

  beforeAll(async () => {
    logs = new RecordedLogs();
    const moduleRef = await Test.createTestingModule({
      controllers: [FailingController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: logs, bodyParser: false });
    app.use(requestChecks('100kb'));
    app.useGlobalFilters(new ProblemDetailsFilter());
    await app.init();
  });

  afterAll(async () => {
    await app.close();
  });

  beforeEach(() => {
    logs.calls.length = 0;
  });

  const get = (path: string) => request(app.getHttpServer()).get(path);

  it('answers a store that is away with 503, Retry-After and a warning, not an error', async () => {
    const response = await get('/fail/store').expect(503);
    expect(response.headers['content-type']).toMatch(
      /^application\/problem\+json/,
    );
    expect(response.headers['retry-after']).toBe('1');
    expect(response.body).toEqual({
      type: 'about:blank',
      title: 'Service Unavailable',
      status: 503,
      detail: 'The database is unavailable; try again shortly.',
    });
    expect(logs.fromFilter()).toEqual([
      {
        level: 'warn',
        args: [
          'GET /fail/store: The database is unavailable: no connection',
          'ProblemDetails',
        ],
      },
    ]);
  });

  it("warns of the identity provider's keys away (a 503), and says nothing of a refused token (a 401)", async () => {
    await get('/fail/keys').expect(503);
    expect(logs.fromFilter()).toEqual([
      {
        level: 'warn',
        args: [expect.stringMatching(/^GET \/fail\/keys: /), 'ProblemDetails'],
      },
    ]);
    logs.calls.length = 0;
    const refused = await get('/fail/token').expect(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer realm="test"');
    expect(logs.fromFilter()).toEqual([]);
  });

  it('answers a fault of ours with 500 and a body that says nothing of it, and logs its stack', async () => {
    const response = await get('/fail/bug').expect(500);
    expect(response.body.detail).toBe(
      'The server could not complete the request.',
    );
    expect(JSON.stringify(response.body)).not.toContain('internals');
    expect(logs.fromFilter()).toEqual([
      {
        level: 'error',
        args: [
          'GET /fail/bug failed',
          expect.stringContaining('Error: a bug with internals\n    at '),
          'ProblemDetails',
        ],
      },
    ]);
  });

  it('answers an HttpException of 500 as a fault (its message kept out), and one below 500 with its message', async () => {
    const fault = await get('/fail/http-500').expect(500);
    expect(fault.body.detail).toBe(
      'The server could not complete the request.',
    );
    expect(logs.fromFilter().map(({ level }) => level)).toEqual(['error']);
    logs.calls.length = 0;
    const client = await get('/fail/http-499').expect(499);
    expect(client.body.detail).toBe('the client went away');
    expect(logs.fromFilter()).toEqual([]);
  });

  it('answers a problem we decided on as it is, with its headers, and logs nothing for it', async () => {
    const response = await get('/fail/problem').expect(502);
    expect(response.headers['retry-after']).toBe('3');
    expect(response.body).toMatchObject({
      status: 502,
      detail: 'The users service is down',
    });
    expect(logs.fromFilter()).toEqual([]);
  });

  it('says what is wrong with a request: every message of a list, or the exception message when there is no text', async () => {
    expect((await get('/fail/list').expect(400)).body.detail).toBe(
      'a is wrong; b is wrong',
    );
    expect((await get('/fail/object').expect(409)).body.detail).toBe(
      'Http Exception',
    );
  });

  it('answers a path with no route as 404, and a method the path does not serve as 405 with Allow', async () => {
    expect((await get('/nowhere').expect(404)).body.detail).toBe(
      'No route for GET /nowhere',
    );
    const wrongMethod = await request(app.getHttpServer())
      .delete('/fail/echo')
      .expect(405);
    expect(wrongMethod.headers.allow).toBe('POST, PUT');
    expect(wrongMethod.body.detail).toBe(
      'DELETE is not allowed on /fail/echo; allowed: POST, PUT',
    );
  });

  it('says why a body was refused: not JSON, or over the limit by how much', async () => {
    const notJson = await request(app.getHttpServer())
      .post('/fail/echo')
      .set('content-type', 'application/json')
      .send('{"name":')
      .expect(400);
    expect(notJson.body.detail).toMatch(/^Request body is not valid JSON: /);
    const tooLarge = await request(app.getHttpServer())
      .post('/fail/echo')
      .set('content-type', 'application/json')
      .send(JSON.stringify({ name: 'x'.repeat(200_000) }))
      .expect(413);
    expect(tooLarge.body.detail).toBe(
      'Request body is 200011 bytes; the limit is 102400 bytes',
    );
  });

  it('breaks the connection when part of the answer has left: no problem written after it', async () => {
    await expect(get('/fail/partial')).rejects.toThrow();
    expect(logs.fromFilter().map(({ level }) => level)).toEqual(['error']);
  });
});
