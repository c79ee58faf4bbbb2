import { HttpService } from '@nestjs/axios';
import {
  HttpStatus,
  Injectable,
  Logger,
  OnModuleDestroy,
} from '@nestjs/common';
import { ProblemException } from '@app/common';
import { UserDto } from '@app/contracts';
import { AxiosResponse, isAxiosError } from 'axios';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { firstValueFrom } from 'rxjs';
import { OrdersConfig } from '../orders.config';

/**
 * The orders app's only door to the users app: the one place that knows its URL and wire format.
 * Whatever goes wrong on the way becomes one of three answers the orders app can give: 503 (users
 * unreachable), 504 (users too slow) or 502 (users answered something we cannot use).
 */
@Injectable()
export class UsersClient implements OnModuleDestroy {
  private readonly logger = new Logger(UsersClient.name);

  constructor(
    private readonly http: HttpService,
    private readonly config: OrdersConfig,
  ) {}

  /** The user, or null when the users app does not know them. */
  async findUser(id: number): Promise<UserDto | null> {
    const response = await this.get(`/users/${id}`);
    if (response.status === HttpStatus.NOT_FOUND) return null;
    if (response.status !== HttpStatus.OK) {
      throw this.badGateway(`answered ${response.status} for user ${id}`);
    }
    return this.parseUser(response.data, id);
  }

  onModuleDestroy(): void {
    // Pooled keep-alive sockets would otherwise hold the process open after close.
    this.http.axiosRef.defaults.httpAgent?.destroy();
    this.http.axiosRef.defaults.httpsAgent?.destroy();
  }

  private async get(path: string): Promise<AxiosResponse<string>> {
    const timeoutMs = this.config.USERS_SERVICE_TIMEOUT_MS;
    // One deadline for the whole exchange (connect, headers and body), unlike axios's `timeout`.
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      return await firstValueFrom(
        this.http.get<string>(path, {
          signal,
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
          {},
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
        {},
        { cause: error },
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
