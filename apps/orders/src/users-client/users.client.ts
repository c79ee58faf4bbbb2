import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { ProblemException, UserDto } from '@app/contracts';
import { annotateRequestLog, METRICS_REGISTRY } from '@app/platform';
import { Histogram, Registry } from 'prom-client';
import { TokenUnavailableError } from './access-token.service';
import { RetryRefusedError } from './retry-budget';
import { UsersCache } from './users.cache';
import { UsersCall } from './users.call';
import { UsersProblems } from './users.problems';

type UsersCallOutcome =
  | 'ok'
  | 'not_found'
  | 'timeout'
  | 'unavailable'
  | 'bad_gateway'
  | 'token_unavailable'
  | 'retry_refused'
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

// Every other failure is a 502 (UsersProblems): bad_gateway, below.
const OUTCOME_BY_STATUS: Record<number, UsersCallOutcome> = {
  [HttpStatus.GATEWAY_TIMEOUT]: 'timeout',
  [HttpStatus.SERVICE_UNAVAILABLE]: 'unavailable',
};

/**
 * How a call failed: no token; a retry the retry budget refused (whatever users last answered,
 * so that refusals are counted); else by the status orders answers with.
 */
function failedOutcome(error: unknown, cause: unknown): UsersCallOutcome {
  if (cause instanceof TokenUnavailableError) return 'token_unavailable';
  if (cause instanceof RetryRefusedError) return 'retry_refused';
  const status = error instanceof ProblemException ? error.getStatus() : 0;
  return OUTCOME_BY_STATUS[status] ?? 'bad_gateway';
}

/**
 * The orders app's only door to the users app. A lookup is one call (UsersCall: the token, the
 * resilience policy, HttpService over orders' copies and connections) whose outcome is counted;
 * when it fails and the caller may be shown a copy, the last one users confirmed stands in.
 * Whatever else goes wrong is the call's problem: 503, 504 or 502 (UsersProblems).
 */
@Injectable()
export class UsersClient {
  private readonly logger = new Logger(UsersClient.name);
  private readonly calls: Histogram<'outcome'>;

  constructor(
    private readonly call: UsersCall,
    private readonly cache: UsersCache,
    private readonly problems: UsersProblems,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.calls = new Histogram({
      name: 'users_client_request_duration_seconds',
      help: 'Duration of calls from orders to the users app, by outcome',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
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
      const user = await this.call.user(id);
      stop({ outcome: user ? 'ok' : 'not_found' });
      return { user };
    } catch (error) {
      const cause = error instanceof Error ? error.cause : undefined;
      // On the request's line even when a copy then stands in: the call ended before its retries.
      if (cause instanceof RetryRefusedError)
        annotateRequestLog({ users_retry_refused: true });
      const copy = copyOnFailure ? this.confirmedCopy(id, error) : undefined;
      if (copy) {
        stop({ outcome: 'stale' });
        return copy;
      }
      stop({ outcome: failedOutcome(error, cause) });
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
      user = this.problems.parseUser(copy.body, id);
    } catch {
      return undefined;
    }
    const ageS = Math.round(copy.confirmedMsAgo / 1000);
    this.logger.warn(
      `Showing user ${id} as users confirmed it ${ageS} s ago: ${failure.problem.detail}`,
    );
    return { user, copy: { ageS } };
  }
}
