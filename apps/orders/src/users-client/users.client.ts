import { HttpService } from '@nestjs/axios';
import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { ProblemException, UserDto } from '@app/contracts';
import {
  currentRequestId,
  METRICS_REGISTRY,
  REQUEST_ID_HEADER,
} from '@app/platform';
import { injectTraceContext } from '@app/telemetry';
import axios, { type AxiosRequestConfig, type AxiosResponse } from 'axios';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  CircuitBreakerPolicy,
  CircuitState,
  IPolicy,
  TaskCancelledError,
} from 'cockatiel';
import { Gauge, Histogram, Registry } from 'prom-client';
import { firstValueFrom } from 'rxjs';
import { UsersClientSettings } from './users-client.settings';
import {
  AccessTokenService,
  TokenUnavailableError,
} from './access-token.service';
import {
  createUsersCallPolicy,
  isConnectionError,
  UsersServerError,
} from './users-call.policy';
import { UsersCache } from './users.cache';

export type UsersCallOutcome =
  | 'ok'
  | 'not_found'
  | 'timeout'
  | 'unavailable'
  | 'bad_gateway'
  | 'token_unavailable'
  | 'stale';

/** A user as users answered now, or, with `copy`, as it last confirmed them. */
export interface UserLookup {
  user: UserDto | null;
  /** Set when users could not be asked and its last confirmed copy stands in. */
  copy?: {
    /** Seconds since users confirmed it. */
    ageS: number;
  };
}

const OUTCOME_BY_STATUS: Record<number, UsersCallOutcome> = {
  [HttpStatus.GATEWAY_TIMEOUT]: 'timeout',
  [HttpStatus.SERVICE_UNAVAILABLE]: 'unavailable',
  [HttpStatus.BAD_GATEWAY]: 'bad_gateway',
};

const CIRCUIT_STATE_NAMES: Record<CircuitState, string> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/** What every call to users has in common, built once. */
const CALL_OPTIONS = {
  responseType: 'text',
  // Parsed by us, so that a body that is not JSON is a 502 rather than a string.
  transformResponse: (data: string) => data,
  validateStatus: () => true,
  maxRedirects: 0,
  // @nestjs/axios gives each call without a cancel token one of its own, and cancels it once the
  // call is over, which makes a CanceledError with a stack trace every time. Our calls are
  // aborted by the policy's signal; this token never fires.
  cancelToken: new axios.CancelToken(() => undefined),
} satisfies AxiosRequestConfig;

/** Readiness probes of the users app wait at most this long, whatever the call timeout. */
const PROBE_TIMEOUT_MS = 1000;

/**
 * The orders app's only door to the users app: the one place that knows its URL and wire format.
 * Calls go through a resilience policy (see createUsersCallPolicy), and whatever still goes wrong
 * becomes one of three answers the orders app can give: 503 (users unreachable or unavailable for
 * now, circuit open, too many calls in flight), 504 (users too slow) or 502 (users answered
 * something we cannot use).
 */
@Injectable()
export class UsersClient {
  private readonly logger = new Logger(UsersClient.name);
  private readonly calls: Histogram<'outcome'>;
  private readonly policy: IPolicy;
  private readonly breaker: CircuitBreakerPolicy;

  constructor(
    private readonly http: HttpService,
    private readonly config: UsersClientSettings,
    @Inject(METRICS_REGISTRY) registry: Registry,
    private readonly token: AccessTokenService,
    private readonly cache: UsersCache,
  ) {
    this.calls = new Histogram({
      name: 'users_client_request_duration_seconds',
      help: 'Duration of calls from orders to the users app, by outcome',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    ({ policy: this.policy, breaker: this.breaker } =
      createUsersCallPolicy(config));
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

  /**
   * The user as users knows them now, or null when users does not know them (any more): what a
   * decision must rest on, such as storing an order. Never a copy users did not just confirm.
   */
  async findUser(id: number): Promise<UserDto | null> {
    return (await this.lookUp(id, false)).user;
  }

  /**
   * The user as users knows them now, or, when users cannot be asked (unreachable, failing, too
   * slow, its circuit open, too many calls in flight), the last copy users confirmed, if it did
   * within USERS_STALE_IF_ERROR_S: for showing a user, never for deciding on one.
   */
  findUserOrCopy(id: number): Promise<UserLookup> {
    return this.lookUp(id, true);
  }

  private async lookUp(
    id: number,
    copyOnFailure: boolean,
  ): Promise<UserLookup> {
    const stop = this.calls.startTimer();
    try {
      const user = await this.fetchUser(id);
      stop({ outcome: user ? 'ok' : 'not_found' });
      return { user };
    } catch (error) {
      const copy = copyOnFailure ? this.confirmedCopy(id, error) : undefined;
      if (copy) {
        stop({ outcome: 'stale' });
        return copy;
      }
      const status = error instanceof ProblemException ? error.getStatus() : 0;
      stop({
        outcome:
          (error as Error).cause instanceof TokenUnavailableError
            ? 'token_unavailable'
            : (OUTCOME_BY_STATUS[status] ?? 'bad_gateway'),
      });
      throw error;
    }
  }

  /** The copy users last confirmed of the user, within the stale window, for a failed call. */
  private confirmedCopy(id: number, failure: unknown): UserLookup | undefined {
    if (!(failure instanceof ProblemException)) return undefined;
    const copy = this.cache.confirmedCopy(id);
    if (!copy) return undefined;
    let user: UserDto;
    try {
      user = this.parseUser(copy.body, id);
    } catch {
      return undefined;
    }
    const ageS = Math.round(copy.confirmedMsAgo / 1000);
    this.logger.warn(
      `Showing user ${id} as users confirmed it ${ageS} s ago: ${failure.problem.detail}`,
    );
    return { user, copy: { ageS } };
  }

  /**
   * Whether the users app answers its liveness route now, for orders' readiness body. Straight to
   * the users app, past the breaker: readiness reports what is, not what the breaker last saw.
   */
  async probe(): Promise<{ reachable: boolean; detail?: string }> {
    const timeoutMs = Math.min(
      PROBE_TIMEOUT_MS,
      this.config.USERS_SERVICE_ATTEMPT_TIMEOUT_MS,
    );
    try {
      const response = await this.get(
        '/health/live',
        AbortSignal.timeout(timeoutMs),
      );
      return response.status === HttpStatus.OK
        ? { reachable: true }
        : { reachable: false, detail: `answered ${response.status}` };
    } catch (error) {
      return {
        reachable: false,
        detail: isConnectionError(error)
          ? 'The users service is unavailable'
          : `The users service did not answer within ${timeoutMs} ms`,
      };
    }
  }

  private async fetchUser(id: number): Promise<UserDto | null> {
    const path = `/users/${id}`;
    // The whole call's deadline, the wait for a token included. Without tokens, the policy's own
    // deadline is the same one, and the call needs no timer of its own.
    let deadline: AbortSignal | undefined;
    let token: string | undefined;
    if (this.token.enabled) {
      deadline = AbortSignal.timeout(this.config.USERS_SERVICE_TIMEOUT_MS);
      try {
        // Before the policy, not in an attempt: waiting for the token endpoint is no failure of
        // users, and must not count towards opening the circuit to it.
        token = await this.token.get(deadline);
      } catch (error) {
        throw this.problemFor(error, path);
      }
    }
    let response: AxiosResponse<string>;
    try {
      response = await this.policy.execute(async ({ signal }) => {
        let answer = await this.get(path, signal, token);
        if (answer.status === HttpStatus.UNAUTHORIZED && token) {
          // Users no longer takes this token (revoked, keys rotated early): a new one, once.
          this.token.reject(token);
          token = await this.token.get(signal);
          answer = await this.get(path, signal, token);
        }
        if (answer.status >= 500) throw new UsersServerError(answer.status);
        return answer;
      }, deadline);
    } catch (error) {
      throw this.problemFor(error, path);
    }
    if (response.status === HttpStatus.NOT_FOUND) return null;
    if (response.status !== HttpStatus.OK) {
      throw this.badGateway(`answered ${response.status} for user ${id}`);
    }
    return this.parseUser(response.data, id);
  }

  /** Only orders' own token goes to users, never the caller's: it is not even in reach here. */
  private get(
    path: string,
    signal: AbortSignal,
    token?: string,
  ): Promise<AxiosResponse<string>> {
    const requestId = currentRequestId();
    const headers: Record<string, string> = requestId
      ? { [REQUEST_ID_HEADER]: requestId }
      : {};
    if (token) headers.authorization = `Bearer ${token}`;
    injectTraceContext(headers);
    return firstValueFrom(
      this.http.get<string>(path, { ...CALL_OPTIONS, signal, headers }),
    );
  }

  /** What the policy gave up with, as the answer the orders app gives. */
  private problemFor(error: unknown, path: string): ProblemException {
    const options = { cause: error };
    if (error instanceof TokenUnavailableError) {
      return new ProblemException(
        HttpStatus.SERVICE_UNAVAILABLE,
        'The users service is unavailable: no access token for it could be had',
        { ...options, headers: { 'Retry-After': '1' } },
      );
    }
    if (error instanceof BulkheadRejectedError) {
      this.logger.warn(
        `GET ${path} refused: ${this.config.USERS_SERVICE_MAX_CONCURRENCY} calls already in flight`,
      );
      return new ProblemException(
        HttpStatus.SERVICE_UNAVAILABLE,
        'The users service is busy: too many calls to it are in flight',
        { ...options, headers: { 'Retry-After': '1' } },
      );
    }
    if (error instanceof BrokenCircuitError) {
      return new ProblemException(
        HttpStatus.SERVICE_UNAVAILABLE,
        'The users service is unavailable (circuit open after repeated failures)',
        {
          ...options,
          headers: {
            'Retry-After': String(
              Math.ceil(this.config.USERS_SERVICE_BREAKER_COOLDOWN_MS / 1000),
            ),
          },
        },
      );
    }
    if (error instanceof TaskCancelledError) {
      this.logger.warn(
        `GET ${path} gave no answer within ${this.config.USERS_SERVICE_TIMEOUT_MS} ms`,
      );
      return new ProblemException(
        HttpStatus.GATEWAY_TIMEOUT,
        `The users service did not answer within ${this.config.USERS_SERVICE_TIMEOUT_MS} ms`,
        options,
      );
    }
    if (error instanceof UsersServerError) {
      if (error.status === HttpStatus.SERVICE_UNAVAILABLE) {
        this.logger.warn(`The users service answered 503 to GET ${path}`);
        return new ProblemException(
          HttpStatus.SERVICE_UNAVAILABLE,
          'The users service is unavailable for now',
          { ...options, headers: { 'Retry-After': '1' } },
        );
      }
      return this.badGateway(`answered ${error.status} to GET ${path}`);
    }
    this.logger.warn(
      `GET ${path} failed: ${(error as { code?: string }).code ?? String(error)} (${this.config.USERS_SERVICE_URL})`,
    );
    return new ProblemException(
      HttpStatus.SERVICE_UNAVAILABLE,
      'The users service is unavailable',
      options,
    );
  }

  private parseUser(body: string, id: number): UserDto {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw this.badGateway(`sent a body that is not JSON for user ${id}`);
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      throw this.badGateway(`sent a body that is not a user for user ${id}`);
    }
    const user = plainToInstance(UserDto, json);
    const errors = validateSync(user);
    if (errors.length > 0) {
      throw this.badGateway(
        `sent a user of the wrong shape for user ${id}: ${errors.map((e) => e.property).join(', ')}`,
      );
    }
    // Only the contract's fields travel on, whatever else the users app adds.
    return { name: user.name, email: user.email };
  }

  private badGateway(what: string): ProblemException {
    this.logger.warn(`The users service ${what}`);
    return new ProblemException(
      HttpStatus.BAD_GATEWAY,
      'The users service gave an invalid answer',
    );
  }
}
