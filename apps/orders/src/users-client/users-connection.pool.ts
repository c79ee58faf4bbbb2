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
import { BEARER, UsersCache } from './users.cache';

/**
 * The response headers the users client may read. axios normalizes every header of every response
 * (a search per header among the others), and the users app sends twenty, helmet's among them:
 * that cost more than the rest of a call. These are what a caller of users can act on.
 */
const HEADERS_READ = ['content-type', 'retry-after', 'www-authenticate'];

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
    let answer: Dispatcher.ResponseData;
    let data: string;
    const { authorization, ...sent } = config.headers.toJSON() as Record<
      string,
      string
    >;
    // Orders' token rides past the cache, to be put on the wire below it (see UsersCache).
    const request: Dispatcher.RequestOptions = {
      method: (config.method ?? 'get').toUpperCase() as 'GET',
      path: this.pathPrefix + (config.url ?? ''),
      headers: sent,
      body: config.data as string | undefined,
      signal: config.signal as AbortSignal | undefined,
    };
    if (authorization !== undefined)
      Object.assign(request, { [BEARER]: authorization });
    try {
      answer = await this.dispatcher.request(request);
      data = await answer.body.text();
    } catch (error) {
      throw failure(error, config);
    }
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
