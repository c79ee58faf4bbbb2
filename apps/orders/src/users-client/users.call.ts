import { HttpService } from '@nestjs/axios';
import { HttpStatus, Injectable } from '@nestjs/common';
import type { UserDto } from '@app/contracts';
import { currentRequestId, REQUEST_ID_HEADER } from '@app/platform';
import { injectTraceContext } from '@app/telemetry';
import axios, { type AxiosRequestConfig, type AxiosResponse } from 'axios';
import { firstValueFrom } from 'rxjs';
import { AccessTokenService } from './access-token.service';
import { UsersCallPolicy, UsersServerError } from './users-call.policy';
import { UsersClientSettings, UsersEndpoint } from './users-client.settings';
import { UsersProblems } from './users.problems';

/** What every request to users has in common, built once. */
const REQUEST_OPTIONS = {
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

/**
 * One call to users for a user, as HttpService makes it: orders' token made sure of first, then
 * the GET under the resilience policy (UsersCallPolicy), a token users refuses replaced once,
 * and the answer read: the user, null for users' 404, or the problem orders answers with
 * (UsersProblems). Each request carries the request's id and trace context; the token is put on
 * below orders' copies of users (see UsersTransport, where the request goes next).
 */
@Injectable()
export class UsersCall {
  constructor(
    private readonly http: HttpService,
    private readonly config: UsersClientSettings,
    private readonly endpoint: UsersEndpoint,
    private readonly policy: UsersCallPolicy,
    private readonly token: AccessTokenService,
    private readonly problems: UsersProblems,
  ) {}

  /** @throws ProblemException 502, 503 or 504 */
  async user(id: number): Promise<UserDto | null> {
    const path = this.endpoint.userPath(id);
    // The whole call's deadline, the wait for a token included. Without tokens, the policy's own
    // deadline is the same one, and the call needs no timer of its own.
    let deadline: AbortSignal | undefined;
    let sent: string | undefined;
    if (this.token.enabled) {
      deadline = AbortSignal.timeout(this.config.USERS_SERVICE_TIMEOUT_MS);
      try {
        // Before the policy, not in an attempt: waiting for the token endpoint is no failure of
        // users, and must not count towards opening the circuit to it.
        sent = await this.token.get(deadline);
      } catch (error) {
        throw this.problems.of(error, path);
      }
    }
    let response: AxiosResponse<string>;
    try {
      response = await this.policy.execute(async ({ signal }) => {
        let answer = await this.get(path, signal);
        if (answer.status === HttpStatus.UNAUTHORIZED && sent !== undefined) {
          // Users no longer takes this token (revoked, keys rotated early): a new one, once.
          this.token.reject(sent);
          sent = await this.token.get(signal);
          answer = await this.get(path, signal);
        }
        if (answer.status >= 500) throw new UsersServerError(answer.status);
        return answer;
      }, deadline);
    } catch (error) {
      throw this.problems.of(error, path);
    }
    if (response.status === HttpStatus.NOT_FOUND) return null;
    if (response.status !== HttpStatus.OK)
      throw this.problems.badGateway(
        `answered ${response.status} for user ${id}`,
      );
    return this.problems.parseUser(response.data, id);
  }

  /** A GET to users; only orders' own token goes there, never the caller's. */
  get(path: string, signal: AbortSignal): Promise<AxiosResponse<string>> {
    const requestId = currentRequestId();
    const headers: Record<string, string> = requestId
      ? { [REQUEST_ID_HEADER]: requestId }
      : {};
    injectTraceContext(headers);
    return firstValueFrom(
      this.http.get<string>(path, { ...REQUEST_OPTIONS, signal, headers }),
    );
  }
}
