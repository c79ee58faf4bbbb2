import { Logger, type LoggerService } from '@nestjs/common';
import { ProblemException } from '@app/contracts';
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  TaskCancelledError,
} from 'cockatiel';
import { UsersServerError } from './users-call.policy';
import { UsersClientSettings } from './users-client.settings';
import { UsersProblems } from './users.problems';

/**
 * What an operator reads when a call to users fails: each failure's warning, with what happened
 * and where, under the client's name. The answers themselves are pinned by the client's spec and
 * orders' e2e suites.
 */
describe('UsersProblems', () => {
  const warnings: { message: string; context: string }[] = [];
  const quiet = () => undefined;
  const capture: LoggerService = {
    log: quiet,
    error: quiet,
    warn: (message: string, context: string) =>
      warnings.push({ message, context }),
  };
  const problems = new UsersProblems(
    Object.assign(new UsersClientSettings(), {
      USERS_SERVICE_URL: 'http://users.test:5001',
      USERS_SERVICE_MAX_CONCURRENCY: 7,
      USERS_SERVICE_TIMEOUT_MS: 1500,
    }),
  );

  beforeAll(() => Logger.overrideLogger(capture));
  beforeEach(() => {
    warnings.length = 0;
  });

  it.each([
    [
      'too many calls in flight',
      new BulkheadRejectedError(7, 0),
      503,
      'GET /users/9 refused: 7 calls already in flight',
    ],
    [
      'no answer in time',
      new TaskCancelledError(),
      504,
      'GET /users/9 gave no answer within 1500 ms',
    ],
    [
      'a 500 from users',
      new UsersServerError(500),
      502,
      'The users service answered 500 to GET /users/9',
    ],
    [
      'a 503 from users',
      new UsersServerError(503),
      503,
      'The users service answered 503 to GET /users/9',
    ],
    [
      'a refused connection, by its code',
      Object.assign(new Error('connect failed'), { code: 'ECONNREFUSED' }),
      503,
      'GET /users/9 failed: ECONNREFUSED (http://users.test:5001)',
    ],
    [
      'a failure without a code, as it prints',
      new Error('socket hang up'),
      503,
      'GET /users/9 failed: Error: socket hang up (http://users.test:5001)',
    ],
  ])('warns of %s', (_what, failure, status, warning) => {
    const problem = problems.of(failure, '/users/9');
    expect(problem).toBeInstanceOf(ProblemException);
    expect(problem.getStatus()).toBe(status);
    expect(warnings).toEqual([{ message: warning, context: 'UsersClient' }]);
  });

  it('answers an open circuit without a warning: the breaker said it when it opened', () => {
    expect(problems.of(new BrokenCircuitError(), '/users/9').getStatus()).toBe(
      503,
    );
    expect(warnings).toEqual([]);
  });

  it.each([
    ['not JSON', 'Alice', 'sent a body that is not JSON for user 9'],
    [
      'JSON but not an object',
      '[1]',
      'sent a body that is not a user for user 9',
    ],
    [
      'a user of the wrong shape',
      '{"name":5}',
      'sent a user of the wrong shape for user 9: name, email',
    ],
  ])(
    'refuses a body that is %s as a 502, naming what was wrong',
    (_what, body, what) => {
      let status: number | undefined;
      try {
        problems.parseUser(body, 9);
      } catch (error) {
        if (error instanceof ProblemException) status = error.getStatus();
      }
      expect(status).toBe(502);
      expect(warnings).toEqual([
        { message: `The users service ${what}`, context: 'UsersClient' },
      ]);
    },
  );
});
