import { UsersClientSettings } from './users-client.settings';
import {
  TokenUnavailableError,
  AccessTokenService,
} from './access-token.service';

/** A token endpoint answer, resolved when the test says so. */
function pendingAnswer() {
  let resolve!: (response: Response) => void;
  const promise = new Promise<Response>((r) => (resolve = r));
  const send = (token: string, expiresIn = 100) =>
    resolve(
      Response.json({
        access_token: token,
        token_type: 'Bearer',
        expires_in: expiresIn,
      }),
    );
  return { promise, send };
}

describe('AccessTokenService', () => {
  const fetchMock = jest.fn<Promise<Response>, Parameters<typeof fetch>>();
  let now = 1_000_000;
  let token: AccessTokenService;
  const signal = new AbortController().signal;

  beforeEach(() => {
    fetchMock.mockReset();
    jest.spyOn(globalThis, 'fetch').mockImplementation(fetchMock);
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    token = new AccessTokenService(
      Object.assign(new UsersClientSettings(), {
        USERS_SERVICE_TOKEN_URL: 'https://id.example.com/token',
        USERS_SERVICE_CLIENT_ID: 'orders',
        USERS_SERVICE_CLIENT_SECRET: 'secret',
      }),
    );
  });

  afterEach(() => jest.restoreAllMocks());

  it('near the end of its life, serves the current token while one refresh runs in the background', async () => {
    const first = pendingAnswer();
    fetchMock.mockReturnValueOnce(first.promise);
    const got = token.get(signal);
    first.send('t1', 100);
    await expect(got).resolves.toBe('t1');

    // In the refresh window (the last fifth of 100 s), with a slow token endpoint.
    now += 85_000;
    const second = pendingAnswer();
    fetchMock.mockReturnValueOnce(second.promise);
    await expect(token.get(signal)).resolves.toBe('t1');
    await expect(token.get(signal)).resolves.toBe('t1');
    expect(fetchMock).toHaveBeenCalledTimes(2);

    second.send('t2', 100);
    await new Promise((resolve) => setImmediate(resolve));
    await expect(token.get(signal)).resolves.toBe('t2');
    expect(fetchMock).toHaveBeenCalledTimes(2);
  });

  it('asks with client_secret_basic for the users:read scope', async () => {
    fetchMock.mockResolvedValueOnce(
      Response.json({
        access_token: 't',
        token_type: 'bearer',
        expires_in: 60,
      }),
    );
    await token.get(signal);
    const [url, init] = fetchMock.mock.calls[0];
    expect(url).toBe('https://id.example.com/token');
    expect((init!.headers as Record<string, string>).Authorization).toBe(
      `Basic ${Buffer.from('orders:secret').toString('base64')}`,
    );
    expect((init!.body as URLSearchParams).toString()).toBe(
      'grant_type=client_credentials&scope=users%3Aread',
    );
  });

  it('names users as the resource (RFC 8707) when USERS_SERVICE_TOKEN_RESOURCE is set', async () => {
    fetchMock.mockResolvedValueOnce(
      Response.json({ access_token: 't', token_type: 'Bearer' }),
    );
    const withResource = new AccessTokenService(
      Object.assign(new UsersClientSettings(), {
        USERS_SERVICE_TOKEN_URL: 'https://id.example.com/token',
        USERS_SERVICE_CLIENT_ID: 'orders',
        USERS_SERVICE_CLIENT_SECRET: 'secret',
        USERS_SERVICE_TOKEN_RESOURCE: 'https://users.example.com',
      }),
    );
    await withResource.get(signal);
    const [, init] = fetchMock.mock.calls[0];
    expect((init!.body as URLSearchParams).toString()).toBe(
      'grant_type=client_credentials&scope=users%3Aread&resource=https%3A%2F%2Fusers.example.com',
    );
  });

  it('forgets a token users refused, so the next call fetches another', async () => {
    fetchMock
      .mockResolvedValueOnce(
        Response.json({
          access_token: 'old',
          token_type: 'Bearer',
          expires_in: 100,
        }),
      )
      .mockResolvedValueOnce(
        Response.json({
          access_token: 'new',
          token_type: 'Bearer',
          expires_in: 100,
        }),
      );
    await expect(token.get(signal)).resolves.toBe('old');
    token.reject('old');
    await expect(token.get(signal)).resolves.toBe('new');
  });

  it.each([
    [
      'an error status',
      () =>
        Promise.resolve(
          Response.json({ error: 'invalid_client' }, { status: 401 }),
        ),
    ],
    [
      'no access token',
      () => Promise.resolve(Response.json({ token_type: 'Bearer' })),
    ],
    [
      'a token of another type',
      () =>
        Promise.resolve(
          Response.json({ access_token: 't', token_type: 'mac' }),
        ),
    ],
    ['a network error', () => Promise.reject(new TypeError('fetch failed'))],
  ])('refuses %s as TokenUnavailableError', async (_what, answer) => {
    fetchMock.mockImplementationOnce(answer);
    await expect(token.get(signal)).rejects.toBeInstanceOf(
      TokenUnavailableError,
    );
  });

  it("gives up waiting at the caller's deadline, leaving the fetch to others", async () => {
    const slow = pendingAnswer();
    fetchMock.mockReturnValueOnce(slow.promise);
    const deadline = new AbortController();
    const waiting = token.get(deadline.signal);
    deadline.abort();
    await expect(waiting).rejects.toBeInstanceOf(TokenUnavailableError);
    const other = token.get(signal);
    slow.send('t');
    await expect(other).resolves.toBe('t');
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });
});
