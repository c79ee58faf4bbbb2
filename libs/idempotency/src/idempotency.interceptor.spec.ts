import {
  Body,
  Controller,
  INestApplication,
  type LoggerService,
  Post,
  Put,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ProblemDetailsFilter } from '@app/platform';
import request from 'supertest';
import { IdempotencyInterceptor } from './idempotency.interceptor';
import { IdempotencySettings } from './idempotency.settings';
import { ClaimLostError, IdempotencyStore } from './idempotency.store';
import { Idempotent } from './idempotent.decorator';
import { InMemoryIdempotencyStore } from './in-memory-idempotency.store';

@Controller('things')
class ThingsController {
  @Post()
  @Idempotent()
  create(@Body() body: object) {
    return body;
  }

  @Put()
  @Idempotent()
  replace(@Body() body: object) {
    return body;
  }
}

/** Keys in memory, but the first run of `lost` finds its key taken over, as a lapsed lease does. */
class LosingStore extends InMemoryIdempotencyStore {
  override async runFirst(
    key: string,
    claimed: object,
    status: number,
    handler: () => Promise<unknown>,
  ): Promise<unknown> {
    if (key === 'lost') throw new ClaimLostError(key);
    return super.runFirst(key, claimed, status, handler);
  }
}

/**
 * The interceptor on routes of its own, a POST and a PUT, in front of a store that can lose a
 * claim: what the users and orders e2e suites cannot reach with their POSTs and their stores.
 */
describe('IdempotencyInterceptor', () => {
  let app: INestApplication;
  const warnings: [unknown, unknown][] = [];
  const quiet = () => undefined;
  const logs: LoggerService = {
    log: quiet,
    error: quiet,
    warn: (message: unknown, context: unknown) =>
      warnings.push([message, context]),
  };

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      controllers: [ThingsController],
      providers: [
        IdempotencyInterceptor,
        {
          provide: IdempotencyStore,
          useValue: new LosingStore(new IdempotencySettings()),
        },
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: logs });
    app.useGlobalFilters(new ProblemDetailsFilter());
    await app.init();
  });

  afterAll(() => app.close());

  it('answers a PUT, and its replay, 200 as a PUT is answered', async () => {
    for (const replayed of [undefined, 'true']) {
      const response = await request(app.getHttpServer())
        .put('/things')
        .set('Idempotency-Key', 'put')
        .send({ a: 1 })
        .expect(200, { a: 1 });
      expect(response.headers['idempotent-replayed']).toBe(replayed);
    }
  });

  it('answers 409 with Retry-After when the key was taken over while the request ran, and warns', async () => {
    const response = await request(app.getHttpServer())
      .post('/things')
      .set('Idempotency-Key', 'lost')
      .send({ a: 1 })
      .expect(409);
    expect(response.headers['retry-after']).toBe('1');
    expect(response.body).toMatchObject({
      status: 409,
      detail: 'A request with this Idempotency-Key is still in progress',
    });
    expect(warnings).toContainEqual([
      'The Idempotency-Key lost was taken over while its request ran',
      'IdempotencyInterceptor',
    ]);
  });
});
