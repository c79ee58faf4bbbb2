import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { ProblemException, UserDto } from '@app/contracts';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  TaskCancelledError,
} from 'cockatiel';
import { TokenUnavailableError } from './access-token.service';
import { RetryRefusedError } from './retry-budget';
import { UsersServerError } from './users-call.policy';
import { UsersClientSettings } from './users-client.settings';

/**
 * What orders answers when a call to users goes wrong: one of three problems, each logged with
 * what happened. 503 when users cannot be asked now (unreachable, answering 503, its circuit
 * open, too many calls in flight, no token for it), with Retry-After; 504 when it is too slow;
 * 502 when it answered something orders cannot use, which `parseUser` holds its answers to.
 */
@Injectable()
export class UsersProblems {
  private readonly logger = new Logger('UsersClient');

  constructor(private readonly config: UsersClientSettings) {}

  /** What the call gave up with (the policy's errors, the token's), as the answer orders gives. */
  of(error: unknown, path: string): ProblemException {
    // A retry the budget refused leaves the failure before it, answered as that one; the refusal
    // stays the cause, for the call's outcome.
    const failure = error instanceof RetryRefusedError ? error.failure : error;
    const options = { cause: error };
    const unavailable = (detail: string, retryAfterS = 1) =>
      new ProblemException(HttpStatus.SERVICE_UNAVAILABLE, detail, {
        ...options,
        headers: { 'Retry-After': String(retryAfterS) },
      });
    if (failure instanceof TokenUnavailableError)
      return unavailable(
        'The users service is unavailable: no access token for it could be had',
      );
    if (failure instanceof BulkheadRejectedError) {
      this.logger.warn(
        `GET ${path} refused: ${this.config.USERS_SERVICE_MAX_CONCURRENCY} calls already in flight`,
      );
      return unavailable(
        'The users service is busy: too many calls to it are in flight',
      );
    }
    if (failure instanceof BrokenCircuitError)
      return unavailable(
        'The users service is unavailable (circuit open after repeated failures)',
        Math.ceil(this.config.USERS_SERVICE_BREAKER_COOLDOWN_MS / 1000),
      );
    if (failure instanceof TaskCancelledError) {
      this.logger.warn(
        `GET ${path} gave no answer within ${this.config.USERS_SERVICE_TIMEOUT_MS} ms`,
      );
      return new ProblemException(
        HttpStatus.GATEWAY_TIMEOUT,
        `The users service did not answer within ${this.config.USERS_SERVICE_TIMEOUT_MS} ms`,
        options,
      );
    }
    if (failure instanceof UsersServerError) {
      if (failure.status !== HttpStatus.SERVICE_UNAVAILABLE)
        return this.badGateway(
          `answered ${failure.status} to GET ${path}`,
          error,
        );
      this.logger.warn(`The users service answered 503 to GET ${path}`);
      return unavailable('The users service is unavailable for now');
    }
    this.logger.warn(
      `GET ${path} failed: ${(failure as { code?: string }).code ?? String(failure)} (${this.config.USERS_SERVICE_URL})`,
    );
    return new ProblemException(
      HttpStatus.SERVICE_UNAVAILABLE,
      'The users service is unavailable',
      options,
    );
  }

  /** Users answered, but nothing orders can use; `cause`, what the call gave up with, if any. */
  badGateway(what: string, cause?: unknown): ProblemException {
    this.logger.warn(`The users service ${what}`);
    return new ProblemException(
      HttpStatus.BAD_GATEWAY,
      'The users service gave an invalid answer',
      { cause },
    );
  }

  /** A user as users sends it, held to the contract; only its fields travel on. */
  parseUser(body: string, id: number): UserDto {
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
    return { name: user.name, email: user.email };
  }
}
