import { HttpService } from '@nestjs/axios';
import { Test } from '@nestjs/testing';
import { ProblemException } from '@app/contracts';
import {
  currentContext,
  METRICS_REGISTRY,
  requestContextMiddleware,
} from '@app/platform';
import { AxiosError, AxiosRequestConfig, CanceledError } from 'axios';
import type { Request, Response } from 'express';
import { Registry } from 'prom-client';
import { Observable, of, throwError } from 'rxjs';
import { installContextPropagation } from '@app/telemetry';
import { parsePrometheusText, recordLogs, sampleValue } from '@app/testing';
import { HealthIndicatorService } from '@nestjs/terminus';
import { UsersCallPolicy } from './users-call.policy';
import { UsersClientSettings, UsersEndpoint } from './users-client.settings';
import { UsersReadiness } from './users-readiness.indicator';
import { UsersCall } from './users.call';
import { UsersProblems } from './users.problems';
import { ConfirmedCopy, UsersCache } from './users.cache';
import { UsersClient } from './users.client';
import { AccessTokenService } from './access-token.service';

type Get = (path: string, config: AxiosRequestConfig) => Observable<unknown>;

describe('UsersClient', () => {
  let client: UsersClient;
  let readiness: UsersReadiness;
  let registry: Registry;
  let copy: ConfirmedCopy | undefined;
  const get = jest.fn<ReturnType<Get>, Parameters<Get>>();

  // A deadline no loaded machine reaches by accident; the one test about deadlines sets 50 ms,
  // where only the deadline can end the call, so its outcome does not depend on the machine.
  async function makeClient(
    deadlineMs = 30_000,
    settings: Partial<UsersClientSettings> = {},
  ): Promise<UsersClient> {
    registry = new Registry();
    const moduleRef = await Test.createTestingModule({
      providers: [
        UsersClient,
        UsersCall,
        UsersCallPolicy,
        UsersProblems,
        UsersEndpoint,
        UsersReadiness,
        { provide: HealthIndicatorService, useValue: {} },
        { provide: HttpService, useValue: { get, axiosRef: { defaults: {} } } },
        {
          provide: UsersClientSettings,
          useValue: Object.assign(new UsersClientSettings(), {
            USERS_SERVICE_TIMEOUT_MS: deadlineMs,
            USERS_SERVICE_ATTEMPT_TIMEOUT_MS: deadlineMs,
            USERS_SERVICE_RETRY_DELAY_MS: 0,
            ...settings,
          }),
        },
        { provide: METRICS_REGISTRY, useValue: registry },
        AccessTokenService,
        // The copy a test gives it, if any: the calls are answered by the stubbed HttpService.
        { provide: UsersCache, useValue: { confirmedCopy: () => copy } },
      ],
    }).compile();
    readiness = moduleRef.get(UsersReadiness);
    return moduleRef.get(UsersClient);
  }

  beforeEach(async () => {
    get.mockReset();
    copy = undefined;
    client = await makeClient();
  });

  const respond = (status: number, data: string) =>
    get.mockReturnValue(of({ status, data }));

  async function problemOf(
    promise: Promise<unknown>,
  ): Promise<ProblemException['problem']> {
    const error = await promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProblemException);
    return (error as ProblemException).problem;
  }

  it('asks for /users/:id with a deadline and returns the user', async () => {
    respond(200, '{"name":"Alice","email":"alice@example.com"}');
    await expect(client.findUser(1)).resolves.toEqual({
      name: 'Alice',
      email: 'alice@example.com',
    });
    expect(get).toHaveBeenCalledWith(
      '/users/1',
      expect.objectContaining({
        signal: expect.any(AbortSignal),
        maxRedirects: 0,
      }),
    );
  });

  it('keeps only the contract fields', async () => {
    respond(200, '{"name":"Alice","email":"alice@example.com","admin":true}');
    await expect(client.findUser(1)).resolves.toEqual({
      name: 'Alice',
      email: 'alice@example.com',
    });
  });

  it('returns null for a 404', async () => {
    respond(404, '{"status":404}');
    await expect(client.findUser(5)).resolves.toBeNull();
  });

  it.each([
    ['a 500', 500, '{}'],
    ['a 401', 401, '{}'],
    ['a 302', 302, ''],
    ['a body that is not JSON', 200, 'hello'],
    ['a JSON string', 200, '"Alice"'],
    ['a user without email', 200, '{"name":"Alice"}'],
    ['a user with an empty name', 200, '{"name":"","email":"a@b.c"}'],
  ])('answers 502 for %s', async (_case, status, data) => {
    respond(status, data);
    await expect(problemOf(client.findUser(1))).resolves.toMatchObject({
      status: 502,
    });
  });

  it('warns with the status users answered when it is neither a user nor a 404', async () => {
    const logs = recordLogs();
    try {
      respond(302, '');
      await client.findUser(7).catch(() => undefined);
    } finally {
      logs.stop();
    }
    expect(logs.warn).toEqual([
      ['The users service answered 302 for user 7', 'UsersClient'],
    ]);
  });

  it('answers 503 when users answers 503 to every attempt: up, but unable for now', async () => {
    respond(503, '{"status":503}');
    const error = await client.findUser(1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProblemException);
    expect((error as ProblemException).problem).toMatchObject({
      status: 503,
      detail: 'The users service is unavailable for now',
    });
    expect((error as ProblemException).headers).toEqual({ 'Retry-After': '1' });
    expect(get).toHaveBeenCalledTimes(3);
  });

  it.each(['ECONNREFUSED', 'ENOTFOUND', 'ECONNRESET', 'EHOSTUNREACH'])(
    'answers 503 for a network error %s',
    async (code) => {
      get.mockReturnValue(throwError(() => new AxiosError('failed', code)));
      await expect(problemOf(client.findUser(1))).resolves.toMatchObject({
        status: 503,
        detail: 'The users service is unavailable',
      });
    },
  );

  it('answers 504 when the deadline passes first', async () => {
    client = await makeClient(50);
    get.mockImplementation(
      (_path, config) =>
        new Observable((subscriber) => {
          config.signal!.addEventListener!('abort', () =>
            subscriber.error(new CanceledError()),
          );
        }),
    );
    await expect(problemOf(client.findUser(1))).resolves.toMatchObject({
      status: 504,
      detail: 'The users service did not answer within 50 ms',
    });
  });

  it('passes the id and the trace of the request being served on to the users app', async () => {
    installContextPropagation();
    respond(200, '{"name":"Alice","email":"alice@example.com"}');
    await new Promise((resolve) =>
      requestContextMiddleware(
        {
          headers: {
            'x-request-id': 'req-7',
            traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
          },
        } as unknown as Request,
        { setHeader: () => undefined } as unknown as Response,
        () => resolve(client.findUser(1)),
      ),
    );
    expect(get.mock.calls[0][1].headers).toEqual({
      'x-request-id': 'req-7',
      traceparent: expect.stringMatching(
        new RegExp(`^00-${'a'.repeat(32)}-[0-9a-f]{16}-01$`),
      ),
    });
  });

  it('counts each call by outcome', async () => {
    respond(200, '{"name":"Alice","email":"alice@example.com"}');
    await client.findUser(1);
    respond(404, '');
    await client.findUser(2);
    respond(500, '');
    await client.findUser(3).catch(() => undefined);
    get.mockReturnValue(
      throwError(() => new AxiosError('failed', 'ECONNREFUSED')),
    );
    await client.findUser(4).catch(() => undefined);
    const samples = parsePrometheusText(await registry.metrics());
    const count = (outcome: string) =>
      sampleValue(samples, 'users_client_request_duration_seconds_count', {
        outcome,
      });
    expect(
      ['ok', 'not_found', 'bad_gateway', 'unavailable', 'timeout'].map(count),
    ).toEqual([1, 1, 1, 1, undefined]);
  });

  it("times calls in the buckets the SLOs' thresholds and the dashboard read", async () => {
    respond(200, '{"name":"Alice","email":"alice@example.com"}');
    await client.findUser(1);
    const bounds = parsePrometheusText(await registry.metrics())
      .filter(
        (sample) =>
          sample.name === 'users_client_request_duration_seconds_bucket',
      )
      .map((sample) => sample.labels.le);
    expect(bounds).toEqual([
      '0.005',
      '0.01',
      '0.025',
      '0.05',
      '0.1',
      '0.25',
      '0.5',
      '1',
      '2.5',
      '5',
      '+Inf',
    ]);
  });

  describe('with the retry budget spent', () => {
    const outcome = async (name: string) =>
      sampleValue(
        parsePrometheusText(await registry.metrics()),
        'users_client_request_duration_seconds_count',
        { outcome: name },
      );

    /** A budget of the reserve alone (10 retries), spent by five calls that each retried twice. */
    async function spend(status: number): Promise<void> {
      client = await makeClient(30_000, {
        USERS_SERVICE_RETRY_BUDGET_PERCENT: 0,
        // Not opened by the 502s: what answers the sixth call is the budget, not the breaker.
        USERS_SERVICE_BREAKER_THRESHOLD: 1000,
      });
      respond(status, '{}');
      for (let i = 0; i < 5; i++) await client.findUser(1).catch(() => {});
      expect(get).toHaveBeenCalledTimes(15);
      get.mockClear();
    }

    it.each([
      [503, 503, 'The users service is unavailable for now'],
      [502, 502, 'The users service gave an invalid answer'],
    ])(
      'answers a %s without retrying it, as its last attempt would be, counted as retry_refused',
      async (status, answered, detail) => {
        await spend(status);
        await expect(problemOf(client.findUser(1))).resolves.toMatchObject({
          status: answered,
          detail,
        });
        expect(get).toHaveBeenCalledTimes(1);
        await expect(outcome('retry_refused')).resolves.toBe(1);
      },
    );

    /** What the call's failure added to the log line of the request it was made for. */
    async function annotationsOf(call: () => Promise<unknown>) {
      installContextPropagation();
      return new Promise((resolve) =>
        requestContextMiddleware(
          { headers: {} } as unknown as Request,
          { setHeader: () => undefined } as unknown as Response,
          () => void call().catch(() => resolve(currentContext()?.annotations)),
        ),
      );
    }

    it('marks the request log line of a call whose retry the budget refused, and only those', async () => {
      // A 503 retried within the budget: nothing to mark.
      respond(503, '{}');
      await expect(annotationsOf(() => client.findUser(1))).resolves.toBe(
        undefined,
      );
      get.mockClear();
      await spend(503);
      await expect(annotationsOf(() => client.findUser(1))).resolves.toEqual({
        users_retry_refused: true,
      });
    });

    it('still shows a confirmed copy, counted as stale', async () => {
      await spend(503);
      const ALICE = { name: 'Alice', email: 'alice@example.com' };
      copy = { body: JSON.stringify(ALICE), confirmedMsAgo: 1000 };
      await expect(client.findUserOrCopy(1)).resolves.toEqual({
        user: ALICE,
        copy: { ageS: 1 },
      });
      expect(get).toHaveBeenCalledTimes(1);
      await expect(outcome('stale')).resolves.toBe(1);
      await expect(outcome('retry_refused')).resolves.toBeUndefined();
    });

    it('does not touch what needs no retry: a 404 is still null', async () => {
      await spend(503);
      respond(404, '');
      await expect(client.findUser(1)).resolves.toBeNull();
    });
  });

  describe('findUserOrCopy', () => {
    const ALICE = { name: 'Alice', email: 'alice@example.com' };
    const outcomes = async () =>
      Object.fromEntries(
        parsePrometheusText(await registry.metrics())
          .filter(
            (sample) =>
              sample.name === 'users_client_request_duration_seconds_count',
          )
          .map((sample) => [sample.labels.outcome, sample.value]),
      );
    const hanging = () =>
      get.mockImplementation(
        (_path, config) =>
          new Observable((subscriber) => {
            config.signal!.addEventListener!('abort', () =>
              subscriber.error(new CanceledError()),
            );
          }),
      );

    it.each<[string, () => void, number]>([
      [
        'users unreachable',
        () =>
          get.mockReturnValue(
            throwError(() => new AxiosError('failed', 'ECONNREFUSED')),
          ),
        0,
      ],
      ['users answering 503', () => respond(503, 'busy'), 0],
      ['users answering 500', () => respond(500, '{}'), 0],
      ['users answering garbage', () => respond(200, 'hello'), 0],
      ['users too slow', hanging, 50],
    ])(
      'shows the confirmed copy, counted as stale, with %s',
      async (_case, fail, deadlineMs) => {
        if (deadlineMs) client = await makeClient(deadlineMs);
        fail();
        copy = { body: JSON.stringify(ALICE), confirmedMsAgo: 12_400 };
        await expect(client.findUserOrCopy(1)).resolves.toEqual({
          user: ALICE,
          copy: { ageS: 12 },
        });
        await expect(outcomes()).resolves.toEqual({ stale: 1 });
      },
    );

    it('warns that a copy stands in, with its age and why users was not asked', async () => {
      const logs = recordLogs();
      try {
        respond(503, 'busy');
        copy = { body: JSON.stringify(ALICE), confirmedMsAgo: 12_400 };
        await client.findUserOrCopy(1);
      } finally {
        logs.stop();
      }
      expect(logs.warn).toContainEqual([
        'Showing user 1 as users confirmed it 12 s ago: The users service is unavailable for now',
        'UsersClient',
      ]);
    });

    it('shows a copy while the circuit is open, when no call is even made', async () => {
      respond(500, '{}');
      for (let i = 0; i < 5; i++) await client.findUser(1).catch(() => {});
      get.mockClear();
      copy = { body: JSON.stringify(ALICE), confirmedMsAgo: 1000 };
      await expect(client.findUserOrCopy(1)).resolves.toMatchObject({
        user: ALICE,
      });
      expect(get).not.toHaveBeenCalled();
    });

    it('answers as users does when users answers: the user, or null for a 404, never a copy', async () => {
      copy = { body: JSON.stringify(ALICE), confirmedMsAgo: 0 };
      respond(200, '{"name":"Alicia","email":"alice@example.com"}');
      await expect(client.findUserOrCopy(1)).resolves.toEqual({
        user: { name: 'Alicia', email: 'alice@example.com' },
      });
      respond(404, '');
      await expect(client.findUserOrCopy(1)).resolves.toEqual({ user: null });
    });

    it('passes the failure on without a copy, and findUser never takes one', async () => {
      respond(500, '{}');
      await expect(problemOf(client.findUserOrCopy(1))).resolves.toMatchObject({
        status: 502,
      });
      copy = { body: JSON.stringify(ALICE), confirmedMsAgo: 0 };
      await expect(problemOf(client.findUser(1))).resolves.toMatchObject({
        status: 502,
      });
    });
  });

  it('probes the users liveness route for readiness', async () => {
    respond(200, '{"status":"ok"}');
    await expect(readiness.probe()).resolves.toEqual({ reachable: true });
    expect(get.mock.calls[0][0]).toBe('/health/live');
    get.mockReturnValue(
      throwError(() => new AxiosError('failed', 'ECONNREFUSED')),
    );
    await expect(readiness.probe()).resolves.toEqual({
      reachable: false,
      detail: 'The users service is unavailable',
    });
  });
});
