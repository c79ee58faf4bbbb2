import { Injectable, Logger } from '@nestjs/common';
import type { Dispatcher } from 'undici';
import { UsersClientSettings } from './users-client.settings';

/** The scope orders asks for: all it does with users is read one user. */
const USERS_TOKEN_SCOPE = 'users:read';

/** No token for users could be had: the token endpoint is down, slow, or refuses us. */
export class TokenUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TokenUnavailableError';
  }
}

/** RFC 6749 §5.1 and §5.2: a token, or an error code. */
interface TokenResponse {
  access_token?: unknown;
  token_type?: unknown;
  expires_in?: unknown;
  error?: unknown;
}

interface Token {
  value: string;
  /** When to fetch the next one, in the background, while this one still serves. */
  refreshAt: number;
  expiresAt: number;
}

/**
 * Orders' own access token for the users app (OAuth 2.0 client credentials), when
 * USERS_SERVICE_TOKEN_URL is set. Cached until shortly before it expires; near the end a refresh
 * starts in the background while calls go on with the current token; without a valid token, calls
 * wait for the one fetch in flight (never one each), each within its own deadline.
 */
@Injectable()
export class AccessTokenService {
  private readonly logger = new Logger('AccessToken');
  private current?: Token;
  private inFlight?: Promise<Token>;

  constructor(private readonly config: UsersClientSettings) {}

  get enabled(): boolean {
    return this.config.USERS_SERVICE_TOKEN_URL !== '';
  }

  /** A valid token, fetched only when there is none. @throws TokenUnavailableError */
  async get(signal: AbortSignal): Promise<string> {
    const now = Date.now();
    const token = this.current;
    if (token && now < token.expiresAt) {
      if (now >= token.refreshAt) this.refresh().catch(() => undefined);
      return token.value;
    }
    return (await untilAborted(this.refresh(), signal)).value;
  }

  /** Users refused `value` (401): it is not used again, and the next call fetches a new one. */
  reject(value: string): void {
    if (this.current?.value === value) this.current = undefined;
  }

  /**
   * What puts orders' token on each request to users, innermost on the connection (see
   * UsersTransport): below orders' copies of users, which never see it, so that they stay
   * orders' own and undici's cache stores them (it stores no answer to a request with
   * `Authorization`). The token is the one each call made sure of before it was sent.
   */
  interceptors(): Dispatcher.DispatcherComposeInterceptor[] {
    if (!this.enabled) return [];
    return [
      (dispatch) => (options, handler) => {
        const token = this.current?.value;
        if (token === undefined) return dispatch(options, handler);
        if (!isHeaderObject(options.headers))
          throw new Error(
            'A request to users carries its headers as an object',
          );
        return dispatch(
          {
            ...options,
            headers: { ...options.headers, authorization: `Bearer ${token}` },
          },
          handler,
        );
      },
    ];
  }

  private refresh(): Promise<Token> {
    this.inFlight ??= this.fetchToken()
      .then((token) => (this.current = token))
      .finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async fetchToken(): Promise<Token> {
    const {
      USERS_SERVICE_TOKEN_URL: url,
      USERS_SERVICE_CLIENT_ID: id,
      USERS_SERVICE_CLIENT_SECRET: secret,
      USERS_SERVICE_TOKEN_AUDIENCE: audience,
      USERS_SERVICE_TOKEN_RESOURCE: resource,
      USERS_SERVICE_TIMEOUT_MS: timeoutMs,
    } = this.config;
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      scope: USERS_TOKEN_SCOPE,
      ...(audience && { audience }),
      ...(resource && { resource }),
    });
    const started = Date.now();
    let response: Response;
    try {
      // Node's fetch is undici's, as the connection to users is; to another origin, the identity
      // provider's, and only now and then, so with no pool of its own.
      response = await fetch(url, {
        method: 'POST',
        headers: {
          // RFC 6749 §2.3.1: client_secret_basic, which every provider must accept.
          Authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
          'Content-Type': 'application/x-www-form-urlencoded',
          Accept: 'application/json',
        },
        body: form,
        redirect: 'error',
        // Shared by every call waiting for it, so bounded by the deadline of one call.
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw this.unavailable(`no answer from ${url}`, error);
    }
    const body = (await response.json().catch(() => undefined)) as
      TokenResponse | undefined;
    if (!response.ok) {
      const error = typeof body?.error === 'string' ? ` (${body.error})` : '';
      throw this.unavailable(`${url} answered ${response.status}${error}`);
    }
    if (
      typeof body?.access_token !== 'string' ||
      String(body.token_type).toLowerCase() !== 'bearer'
    )
      throw this.unavailable(`${url} answered no bearer access token`);
    // A provider that says nothing of the lifetime: a minute, then ask again.
    const lifetimeMs =
      typeof body.expires_in === 'number' && body.expires_in > 0
        ? body.expires_in * 1000
        : 60_000;
    return {
      value: body.access_token,
      // Refresh ahead: a fifth of the lifetime before the end, at most a minute.
      refreshAt: started + lifetimeMs - Math.min(lifetimeMs / 5, 60_000),
      // Used up to a few seconds before the end, so a token never expires on its way to users.
      expiresAt: started + lifetimeMs - Math.min(lifetimeMs / 10, 5000),
    };
  }

  private unavailable(reason: string, cause?: unknown): TokenUnavailableError {
    this.logger.warn(`No access token for the users service: ${reason}`);
    return new TokenUnavailableError(reason, { cause });
  }
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted)
    return Promise.reject(
      new TokenUnavailableError('deadline passed waiting for a token'),
    );
  return new Promise<T>((resolve, reject) => {
    const onAbort = () =>
      reject(new TokenUnavailableError('deadline passed waiting for a token'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => {
      signal.removeEventListener('abort', onAbort);
    });
  });
}

/** UsersTransport sends headers as a plain object, and nothing in between makes them another. */
function isHeaderObject(
  headers: Dispatcher.DispatchOptions['headers'],
): headers is Record<string, string | string[] | undefined> {
  return (
    typeof headers === 'object' &&
    headers !== null &&
    !Array.isArray(headers) &&
    !(Symbol.iterator in headers)
  );
}
