import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { METRICS_REGISTRY } from '@app/platform';
import { isAxiosError } from 'axios';
import {
  bulkhead,
  circuitBreaker,
  CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  fullJitterGenerator,
  handleWhen,
  IPolicy,
  IRetryContext,
  retry,
  TaskCancelledError,
  timeout,
  TimeoutStrategy,
  wrap,
} from 'cockatiel';
import { Gauge, Registry } from 'prom-client';
import { RetryBudget, RetryRefusedError } from './retry-budget';
import { UsersClientSettings } from './users-client.settings';

/** The users app answered 5xx: retried if 502, 503 or 504; counted by the breaker unless 503. */
export class UsersServerError extends Error {
  constructor(readonly status: number) {
    super(`The users service answered ${status}`);
    this.name = 'UsersServerError';
  }
}

/**
 * The retry budget's reserve, whatever the calls: 10 retries in any 10 s, enough for a quiet
 * orders to retry a few lone failures; what users may receive beyond the share, per process.
 */
const RETRY_BUDGET_MIN_PER_S = 1;
const RETRY_BUDGET_WINDOW_MS = 10_000;

const RETRYABLE_STATUSES = new Set([502, 503, 504]);

/** No answer at all: refused, reset, DNS. A request that got a response is not one. */
export function isConnectionError(error: unknown): boolean {
  return (
    isAxiosError(error) && !error.response && error.code !== 'ERR_CANCELED'
  );
}

function isRetryable(error: unknown): boolean {
  return (
    isConnectionError(error) ||
    error instanceof TaskCancelledError ||
    (error instanceof UsersServerError && RETRYABLE_STATUSES.has(error.status))
  );
}

/**
 * What the breaker counts. Not a 503: that is users up and answering at once, saying it cannot
 * serve just now (its database is away for a moment). Calling it costs orders nothing, and
 * counting it would keep orders refusing for the whole cool-down after the database is back.
 */
function isFailure(error: unknown): boolean {
  return (
    isConnectionError(error) ||
    error instanceof TaskCancelledError ||
    (error instanceof UsersServerError &&
      error.status !== HttpStatus.SERVICE_UNAVAILABLE)
  );
}

/**
 * Aggressive: the caller gets its answer at the deadline whatever the attempt is doing, and the
 * signal aborts the attempt's request. A call that returns in time has nothing left to abort, so
 * its signal is left alone: aborting it anyway makes an AbortError, stack trace and all, per call.
 */
const TIMEOUT_OPTIONS = {
  strategy: TimeoutStrategy.Aggressive,
  abortOnReturn: false,
};

const CIRCUIT_STATE_NAMES: Record<CircuitState, string> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/**
 * How a GET to users is made to survive faults, the way a service mesh would: a bound on calls
 * in flight; one deadline for the whole call; retries with full-jitter exponential backoff, only
 * for faults a retry can fix, and only within a budget (RetryBudget), so that retries add at most
 * a share to the calls users receives however many fail; a breaker counting each failed attempt,
 * so a dead users app is not hammered; and a timeout per attempt. Every timeout is aggressive:
 * the caller gets its answer at the deadline whatever the attempt is doing, and the attempt's
 * signal aborts its request. The breaker's state is a metric and a log line when it changes; the
 * budget's refusals are a log line when they begin, and the calls' outcome (see UsersClient).
 */
@Injectable()
export class UsersCallPolicy {
  private readonly logger = new Logger('UsersClient');
  /** bulkhead → deadline → retry, outermost first; each attempt then goes through `attempts`. */
  private readonly calls: IPolicy<IRetryContext>;
  /** breaker → attempt timeout; between the two, the retry budget (see `execute`). */
  private readonly attempts: IPolicy;
  private readonly breaker: CircuitBreakerPolicy;
  private readonly budget: RetryBudget;
  private readonly maxRetries: number;

  constructor(
    config: UsersClientSettings,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.breaker = circuitBreaker(handleWhen(isFailure), {
      halfOpenAfter: config.USERS_SERVICE_BREAKER_COOLDOWN_MS,
      breaker: new ConsecutiveBreaker(config.USERS_SERVICE_BREAKER_THRESHOLD),
    });
    this.maxRetries = config.USERS_SERVICE_RETRIES;
    this.budget = new RetryBudget({
      percent: config.USERS_SERVICE_RETRY_BUDGET_PERCENT,
      minRetriesPerS: RETRY_BUDGET_MIN_PER_S,
      windowMs: RETRY_BUDGET_WINDOW_MS,
      onRefusalsBegin: () =>
        this.logger.warn(
          'Retry budget to the users service spent: failed calls are not all retried for now',
        ),
    });
    this.calls = wrap(
      bulkhead(config.USERS_SERVICE_MAX_CONCURRENCY, 0),
      timeout(config.USERS_SERVICE_TIMEOUT_MS, TIMEOUT_OPTIONS),
      retry(handleWhen(isRetryable), {
        maxAttempts: config.USERS_SERVICE_RETRIES,
        backoff: new ExponentialBackoff({
          generator: fullJitterGenerator,
          initialDelay: config.USERS_SERVICE_RETRY_DELAY_MS,
          maxDelay: config.USERS_SERVICE_TIMEOUT_MS,
        }),
      }),
    );
    this.attempts = wrap(
      this.breaker,
      timeout(config.USERS_SERVICE_ATTEMPT_TIMEOUT_MS, TIMEOUT_OPTIONS),
    );
    // One series per state, 1 for the current one: alerts ask how long it has not been closed.
    const circuit = new Gauge({
      name: 'users_client_circuit_state',
      help: 'State of the circuit breaker from orders to the users app: 1 for the current state',
      labelNames: ['state'],
      registers: [registry],
    });
    const showCircuit = (current: CircuitState) => {
      for (const state of [
        CircuitState.Closed,
        CircuitState.Open,
        CircuitState.HalfOpen,
      ])
        circuit.set(
          { state: CIRCUIT_STATE_NAMES[state] },
          state === current ? 1 : 0,
        );
    };
    showCircuit(this.breaker.state);
    this.breaker.onStateChange((state) => {
      showCircuit(state);
      const message = `Circuit to the users service is ${CIRCUIT_STATE_NAMES[state]}`;
      if (state === CircuitState.Closed) this.logger.log(message);
      else this.logger.warn(message);
    });
  }

  /** closed, open, half-open: for orders' readiness body. */
  get circuitState(): string {
    return CIRCUIT_STATE_NAMES[this.breaker.state];
  }

  /** Runs `attempt` under the policy, within `deadline` too when one is given. */
  execute<T>(
    attempt: (context: { signal: AbortSignal }) => Promise<T>,
    deadline?: AbortSignal,
  ): Promise<T> {
    return this.calls.execute(async ({ attempt: retries, signal }) => {
      // A call, not an attempt, adds to the budget; one the bulkhead turns away never gets here.
      if (retries === 0) this.budget.recordCall();
      try {
        return await this.attempts.execute(attempt, signal);
      } catch (error) {
        // Asked only when a retry would follow, so that the last attempt's failure, or one past
        // the deadline, spends nothing; refused, the call ends with this failure, at once.
        const retryFollows =
          isRetryable(error) && retries < this.maxRetries && !signal.aborted;
        if (retryFollows && !this.budget.tryRetry())
          throw new RetryRefusedError(error);
        throw error;
      }
    }, deadline);
  }
}
