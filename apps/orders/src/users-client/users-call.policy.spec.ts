import { parsePrometheusText, recordLogs, sampleValue } from '@app/testing';
import { AxiosError } from 'axios';
import { BrokenCircuitError } from 'cockatiel';
import { Registry } from 'prom-client';
import { UsersCallPolicy, UsersServerError } from './users-call.policy';
import { UsersClientSettings } from './users-client.settings';

/**
 * The policy on its own, with attempts the test makes fail as users or the network would: what
 * the breaker counts, what the retry budget lets through, and what an operator sees of either.
 * How each failure is answered is the client's spec; over real HTTP, orders' e2e suites.
 */
describe('UsersCallPolicy', () => {
  let registry: Registry;

  let logs: ReturnType<typeof recordLogs>;

  beforeEach(() => {
    logs = recordLogs();
    registry = new Registry();
  });
  afterEach(() => logs.stop());

  /** The defaults, but no wait between attempts and a deadline no busy machine reaches. */
  function policy(settings: Partial<UsersClientSettings> = {}) {
    return new UsersCallPolicy(
      Object.assign(new UsersClientSettings(), {
        USERS_SERVICE_TIMEOUT_MS: 30_000,
        USERS_SERVICE_ATTEMPT_TIMEOUT_MS: 30_000,
        USERS_SERVICE_RETRY_DELAY_MS: 0,
        ...settings,
      }),
      registry,
    );
  }

  async function circuit(): Promise<Record<string, number | undefined>> {
    const samples = parsePrometheusText(await registry.metrics());
    return Object.fromEntries(
      ['closed', 'open', 'half-open'].map((state) => [
        state,
        sampleValue(samples, 'users_client_circuit_state', { state }),
      ]),
    );
  }

  const refused = () =>
    new AxiosError('connect ECONNREFUSED 127.0.0.1:5001', 'ECONNREFUSED');

  /** Runs calls one after the other, each failing every attempt with `failure`. */
  async function failEvery(
    calls: UsersCallPolicy,
    count: number,
    failure: () => unknown,
  ): Promise<{ attempts: number; errors: unknown[] }> {
    let attempts = 0;
    const errors: unknown[] = [];
    for (let i = 0; i < count; i++) {
      errors.push(
        await calls
          .execute(() => {
            attempts++;
            return Promise.reject(failure());
          })
          .catch((error: unknown) => error),
      );
    }
    return { attempts, errors };
  }

  it('shows the circuit closed from the start, before any call', async () => {
    policy();
    await expect(circuit()).resolves.toEqual({
      closed: 1,
      open: 0,
      'half-open': 0,
    });
  });

  it.each<[string, () => unknown]>([
    ['refused connections', refused],
    ['500s', () => new UsersServerError(500)],
  ])(
    'opens the circuit after the threshold of calls failing with %s, and says so under UsersClient',
    async (_case, failure) => {
      const calls = policy({
        USERS_SERVICE_BREAKER_THRESHOLD: 3,
        USERS_SERVICE_RETRIES: 0,
      });
      await failEvery(calls, 3, failure);
      expect(calls.circuitState).toBe('open');
      await expect(circuit()).resolves.toEqual({
        closed: 0,
        open: 1,
        'half-open': 0,
      });
      expect(logs.warn).toContainEqual([
        'Circuit to the users service is open',
        'UsersClient',
      ]);
      const attempt = jest.fn(() => Promise.resolve('never'));
      await expect(calls.execute(attempt)).rejects.toBeInstanceOf(
        BrokenCircuitError,
      );
      expect(attempt).not.toHaveBeenCalled();
    },
  );

  it('keeps the circuit closed through 503s: users up, saying not now', async () => {
    const calls = policy({
      USERS_SERVICE_BREAKER_THRESHOLD: 3,
      USERS_SERVICE_RETRIES: 0,
    });
    const { errors } = await failEvery(
      calls,
      6,
      () => new UsersServerError(503),
    );
    expect(calls.circuitState).toBe('closed');
    // What the call ends with names the status, for whoever meets it outside the client.
    expect(errors[0]).toMatchObject({
      name: 'UsersServerError',
      message: 'The users service answered 503',
      status: 503,
    });
  });

  it('holds calls that always fail to their share of retries: 20 % of the calls, plus the reserve of 10', async () => {
    const calls = policy({
      USERS_SERVICE_RETRIES: 2,
      USERS_SERVICE_RETRY_BUDGET_PERCENT: 20,
      USERS_SERVICE_BREAKER_THRESHOLD: 1_000_000,
    });
    const { attempts } = await failEvery(
      calls,
      100,
      () => new UsersServerError(503),
    );
    // A call counts once however many attempts it makes: 100 calls, 20 + 10 retries.
    expect(attempts).toBe(130);
    // Once when refusals begin, not once a refusal.
    expect(
      logs.warn.filter(([message]) => String(message).startsWith('Retry')),
    ).toEqual([
      [
        'Retry budget to the users service spent: failed calls are not all retried for now',
        'UsersClient',
      ],
    ]);
  });

  it('leaves the signal of an attempt that returned in time alone', async () => {
    let seen: AbortSignal | undefined;
    await expect(
      policy().execute(({ signal }) => {
        seen = signal;
        return Promise.resolve('answer');
      }),
    ).resolves.toBe('answer');
    expect(seen?.aborted).toBe(false);
  });
});
