import { HttpService } from '@nestjs/axios';
import {
  HttpStatus,
  Inject,
  Injectable,
  Logger,
  OnApplicationShutdown,
} from '@nestjs/common';
import {
  currentRequestId,
  METRICS_REGISTRY,
  ProblemException,
  REQUEST_ID_HEADER,
} from '@app/common';
import { UserDto } from '@app/contracts';
import { AxiosResponse, isAxiosError } from 'axios';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { Histogram, Registry } from 'prom-client';
import { firstValueFrom } from 'rxjs';
import { OrdersConfig } from '../orders.config';

export type UsersCallOutcome =
  'ok' | 'not_found' | 'timeout' | 'unavailable' | 'bad_gateway';

const OUTCOME_BY_STATUS: Record<number, UsersCallOutcome> = {
  [HttpStatus.GATEWAY_TIMEOUT]: 'timeout',
  [HttpStatus.SERVICE_UNAVAILABLE]: 'unavailable',
  [HttpStatus.BAD_GATEWAY]: 'bad_gateway',
};

/** Readiness probes of the users app wait at most this long, whatever the call timeout. */
const PROBE_TIMEOUT_MS = 1000;

/**
 * The orders app's only door to the users app: the one place that knows its URL and wire format.
 * Whatever goes wrong on the way becomes one of three answers the orders app can give: 503 (users
 * unreachable), 504 (users too slow) or 502 (users answered something we cannot use).
 */
@Injectable()
export class UsersClient implements OnApplicationShutdown {
  private readonly logger = new Logger(UsersClient.name);
  private readonly calls: Histogram<'outcome'>;

  constructor(
    private readonly http: HttpService,
    private readonly config: OrdersConfig,
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

  /** The user, or null when the users app does not know them. */
  async findUser(id: number): Promise<UserDto | null> {
    const stop = this.calls.startTimer();
    try {
      const user = await this.fetchUser(id);
      stop({ outcome: user ? 'ok' : 'not_found' });
      return user;
    } catch (error) {
      const status = error instanceof ProblemException ? error.getStatus() : 0;
      stop({ outcome: OUTCOME_BY_STATUS[status] ?? 'bad_gateway' });
      throw error;
    }
  }

  /** Whether the users app answers its liveness route now; for orders' readiness body. */
  async probe(): Promise<{ reachable: boolean; detail?: string }> {
    try {
      const response = await this.get(
        '/health/live',
        Math.min(PROBE_TIMEOUT_MS, this.config.USERS_SERVICE_TIMEOUT_MS),
      );
      return response.status === HttpStatus.OK
        ? { reachable: true }
        : { reachable: false, detail: `answered ${response.status}` };
    } catch (error) {
      const detail =
        error instanceof ProblemException
          ? error.problem.detail
          : String(error);
      return { reachable: false, detail };
    }
  }

  // After the server has closed: a request still in flight may be using a pooled socket until then.
  onApplicationShutdown(): void {
    this.http.axiosRef.defaults.httpAgent?.destroy();
    this.http.axiosRef.defaults.httpsAgent?.destroy();
  }

  private async fetchUser(id: number): Promise<UserDto | null> {
    const response = await this.get(
      `/users/${id}`,
      this.config.USERS_SERVICE_TIMEOUT_MS,
    );
    if (response.status === HttpStatus.NOT_FOUND) return null;
    if (response.status !== HttpStatus.OK) {
      throw this.badGateway(`answered ${response.status} for user ${id}`);
    }
    return this.parseUser(response.data, id);
  }

  private async get(
    path: string,
    timeoutMs: number,
  ): Promise<AxiosResponse<string>> {
    // One deadline for the whole exchange (connect, headers and body), unlike axios's `timeout`.
    const signal = AbortSignal.timeout(timeoutMs);
    const requestId = currentRequestId();
    try {
      return await firstValueFrom(
        this.http.get<string>(path, {
          signal,
          headers: requestId ? { [REQUEST_ID_HEADER]: requestId } : {},
          responseType: 'text',
          // Parsed by us, so that a body that is not JSON is a 502 rather than a string.
          transformResponse: (data: string) => data,
          validateStatus: () => true,
          maxRedirects: 0,
        }),
      );
    } catch (error) {
      if (signal.aborted) {
        this.logger.warn(`GET ${path} gave no answer within ${timeoutMs} ms`);
        throw new ProblemException(
          HttpStatus.GATEWAY_TIMEOUT,
          `The users service did not answer within ${timeoutMs} ms`,
          { cause: error },
        );
      }
      const code = isAxiosError(error) ? error.code : undefined;
      this.logger.warn(
        `GET ${path} failed: ${code ?? (error as Error).message} (${this.config.USERS_SERVICE_URL})`,
      );
      throw new ProblemException(
        HttpStatus.SERVICE_UNAVAILABLE,
        'The users service is unavailable',
        {
          cause: error,
        },
      );
    }
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
