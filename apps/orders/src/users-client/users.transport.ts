import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import {
  AxiosError,
  AxiosHeaders,
  type AxiosAdapter,
  type AxiosResponse,
  type InternalAxiosRequestConfig,
} from 'axios';
import { STATUS_CODES } from 'node:http';
import { type Dispatcher, Pool } from 'undici';
import { AccessTokenService } from './access-token.service';
import { HEADERS_READ } from './users-answer.handler';
import { UsersEndpoint } from './users-client.settings';
import { UsersCache } from './users.cache';

/**
 * The one way to users, composed here in the order a request meets it: HttpService's request,
 * through `adapter`, goes to orders' copies of users (UsersCache: undici's HTTP cache, and what
 * watches users' answers for it), then gets orders' token (AccessTokenService), then leaves on a
 * kept-alive undici pool to the users service. The answer comes back the same way. undici does
 * a call to users in a fraction of the CPU of axios's Node adapter (node:http with an agent),
 * which was most of what a `GET /orders/:id` cost. Failures stay axios errors, as the policy
 * expects: no answer is an AxiosError with the network error's code, an abort a CanceledError.
 */
@Injectable()
export class UsersTransport implements OnApplicationShutdown {
  private readonly pool: Pool;
  private readonly dispatcher: Dispatcher;

  constructor(
    endpoint: UsersEndpoint,
    cache: UsersCache,
    token: AccessTokenService,
  ) {
    this.pool = new Pool(endpoint.origin);
    // undici composes innermost first: the token next to the pool, the copies around it.
    this.dispatcher = this.pool.compose(
      ...token.interceptors(),
      ...cache.interceptors(),
    );
  }

  /** HttpService's adapter: its request (the path under the users service's origin) sent here. */
  readonly adapter: AxiosAdapter = async (config) => {
    let answer: Answer;
    try {
      answer = await send(
        this.dispatcher,
        {
          method: (config.method ?? 'get').toUpperCase() as 'GET',
          path: config.url ?? '',
          headers: config.headers.toJSON() as Record<string, string>,
          body: config.data as string | undefined,
        },
        config.signal as AbortSignal | undefined,
      );
    } catch (error) {
      throw failure(error, config);
    }
    const headers = new AxiosHeaders();
    for (const name of HEADERS_READ) {
      const value = answer.headers[name];
      if (value !== undefined) headers.set(name, value);
    }
    const response: AxiosResponse<string> = {
      data: answer.data,
      status: answer.statusCode,
      statusText: STATUS_CODES[answer.statusCode] ?? '',
      headers,
      config,
      request: {},
    };
    if (config.validateStatus && !config.validateStatus(response.status)) {
      throw new AxiosError(
        `Request failed with status code ${response.status}`,
        AxiosError.ERR_BAD_RESPONSE,
        config,
        response.request,
        response,
      );
    }
    return response;
  };

  // After the server has closed and its requests have finished or been cut: nothing waits for
  // these connections any more.
  async onApplicationShutdown(): Promise<void> {
    await this.pool.destroy();
  }
}

interface Answer {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  data: string;
}

/**
 * One request over the dispatcher, its body gathered into a string: undici's `dispatch` with a
 * handler of its own, not `request`, whose body stream and async resource per call cost more than
 * a small JSON answer needs.
 */
function send(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
  signal: AbortSignal | undefined,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    let controller: Dispatcher.DispatchController | undefined;
    const abort = () => controller?.abort(signal?.reason);
    // Removed once the answer ends or fails, which an abort makes it do: the signal may outlive
    // the request (a retry's deadline spans its attempts).
    signal?.addEventListener('abort', abort);
    const settle = () => signal?.removeEventListener('abort', abort);
    let statusCode = 0;
    let headers: Answer['headers'] = {};
    const chunks: Buffer[] = [];
    dispatcher.dispatch(options, {
      onRequestStart(started) {
        controller = started;
        if (signal?.aborted) started.abort(signal.reason);
      },
      onResponseStart(_controller, status, received) {
        statusCode = status;
        headers = received;
      },
      onResponseData(_controller, chunk) {
        chunks.push(chunk);
      },
      onResponseEnd() {
        settle();
        resolve({
          statusCode,
          headers,
          data: Buffer.concat(chunks).toString(),
        });
      },
      onResponseError(_controller, error) {
        settle();
        reject(error);
      },
    });
  });
}

/**
 * No answer: an AxiosError with the network error's message and code. An abort needs nothing
 * here: axios answers any failure of a request whose signal was aborted with a CanceledError.
 */
function failure(
  error: unknown,
  config: InternalAxiosRequestConfig,
): AxiosError {
  const { message, code } = error as { message?: string; code?: string };
  const failed = new AxiosError(
    message ?? String(error),
    code ?? AxiosError.ERR_NETWORK,
    config,
  );
  failed.cause = error as Error;
  return failed;
}
