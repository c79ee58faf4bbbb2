import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import {
  AxiosError,
  AxiosHeaders,
  CanceledError,
  type AxiosAdapter,
  type AxiosResponse,
  type InternalAxiosRequestConfig,
} from 'axios';
import { STATUS_CODES } from 'node:http';
import { type Dispatcher, Pool } from 'undici';
import { UsersClientSettings, usersLocation } from './users-client.settings';
import { BEARER, HEADERS_READ, UsersCache } from './users.cache';

/**
 * The connections from orders to the users app: an undici pool, kept alive, and the axios adapter
 * that sends HttpService's requests over it. undici does a call to users in a fraction of the CPU
 * of axios's Node adapter (node:http with an agent), which was most of what a `GET /orders/:id`
 * cost. Failures stay axios errors, as the policy and UsersClient expect: no answer is an
 * AxiosError with the network error's code, an abort a CanceledError.
 */
@Injectable()
export class UsersConnectionPool implements OnApplicationShutdown {
  private readonly pool: Pool;
  /** The pool with orders' copies of users in front of it (see UsersCache). */
  private readonly dispatcher: Dispatcher;
  private readonly pathPrefix: string;

  constructor(config: UsersClientSettings, cache: UsersCache) {
    const { origin, pathPrefix } = usersLocation(config);
    this.pool = new Pool(origin);
    this.dispatcher = this.pool.compose(cache.interceptors());
    this.pathPrefix = pathPrefix;
  }

  readonly adapter: AxiosAdapter = async (config) => {
    const { authorization, ...sent } = config.headers.toJSON() as Record<
      string,
      string
    >;
    // Orders' token rides past the cache, to be put on the wire below it (see UsersCache).
    const request: Dispatcher.DispatchOptions = {
      method: (config.method ?? 'get').toUpperCase() as 'GET',
      path: this.pathPrefix + (config.url ?? ''),
      headers: sent,
      body: config.data as string | undefined,
    };
    if (authorization !== undefined)
      Object.assign(request, { [BEARER]: authorization });
    let answer: Answer;
    try {
      answer = await send(
        this.dispatcher,
        request,
        config.signal as AbortSignal | undefined,
      );
    } catch (error) {
      throw failure(error, config);
    }
    const { data } = answer;
    const headers = new AxiosHeaders();
    for (const name of HEADERS_READ) {
      const value = answer.headers[name];
      if (value !== undefined) headers.set(name, value);
    }
    const response: AxiosResponse<string> = {
      data,
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
    signal?.addEventListener('abort', abort, { once: true });
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

function failure(
  error: unknown,
  config: InternalAxiosRequestConfig,
): AxiosError {
  if ((config.signal as AbortSignal | undefined)?.aborted) {
    return new CanceledError(undefined, undefined, config);
  }
  const { message, code } = error as { message?: string; code?: string };
  const failed = new AxiosError(
    message ?? String(error),
    code ?? AxiosError.ERR_NETWORK,
    config,
  );
  failed.cause = error as Error;
  return failed;
}
