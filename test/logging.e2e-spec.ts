import {
  BuiltApp,
  eventually,
  builtMain,
  freePort,
  jsonLines,
  startBuiltApp,
} from '@app/testing';
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

describe('logs of a built app (real process)', () => {
  let users: BuiltApp | undefined;

  afterEach(async () => {
    await users?.stop();
    users = undefined;
  });

  async function startUsers(
    env: Record<string, string> = {},
  ): Promise<BuiltApp> {
    const port = await freePort();
    return (users = await startBuiltApp('users', port, {
      USERS_PORT: String(port),
      ...env,
    }));
  }

  /**
   * Lets the process write what the last response caused. Where a test expects a line, it waits
   * for it (a loaded machine may take a while); where it expects none, this much is enough.
   */
  const settle = () => sleep(100);
  const until = (written: (output: string) => boolean) =>
    eventually(() => users!.output(), written, 'the log line');

  it("writes one JSON line per request with the client's address, method, route, status, duration, request id and trace id", async () => {
    await startUsers();
    await fetch(`${users!.url}/users/1`, {
      headers: { 'x-request-id': 'log-line-1' },
    });
    await until((output) => output.includes('"request_id":"log-line-1"'));
    const lines = jsonLines(users!.output()).filter(
      (l) => l.request_id === 'log-line-1',
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toEqual({
      level: 30,
      time: expect.any(Number),
      service: 'users',
      request_id: 'log-line-1',
      trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      span_id: expect.stringMatching(/^[0-9a-f]{16}$/),
      client_ip: expect.stringMatching(/^(::ffff:)?127\.0\.0\.1$/),
      method: 'GET',
      route: '/users/:id',
      url: '/users/1',
      status: 200,
      duration_ms: expect.any(Number),
      msg: 'request completed',
    });
  });

  /** The client_ip of the line of the request with this id, once it is written. */
  async function clientIpOf(
    headers: Record<string, string>,
    requestId: string,
  ): Promise<unknown> {
    await fetch(`${users!.url}/users/1`, {
      headers: { ...headers, 'x-request-id': requestId },
    });
    await until((output) => output.includes(`"request_id":"${requestId}"`));
    return jsonLines(users!.output()).find((l) => l.request_id === requestId)
      ?.client_ip;
  }

  it('logs the connecting address, never what X-Forwarded-For claims, while TRUST_PROXY is unset', async () => {
    await startUsers();
    await expect(
      clientIpOf({ 'x-forwarded-for': '203.0.113.9' }, 'forged-1'),
    ).resolves.toMatch(/^(::ffff:)?127\.0\.0\.1$/);
  });

  it('logs the address a proxy TRUST_PROXY names forwards', async () => {
    await startUsers({ TRUST_PROXY: '127.0.0.1' });
    await expect(
      clientIpOf({ 'x-forwarded-for': '198.51.100.1, 203.0.113.9' }, 'fwd-1'),
    ).resolves.toBe('203.0.113.9');
  });

  it('writes application logs as JSON too', async () => {
    await startUsers();
    await until((output) => output.includes('successfully started'));
    expect(jsonLines(users!.output())).toContainEqual(
      expect.objectContaining({
        level: 30,
        service: 'users',
        context: 'NestApplication',
        msg: 'Nest application successfully started',
      }),
    );
  });

  it('never logs bodies, authorization or cookie headers', async () => {
    await startUsers();
    await fetch(`${users!.url}/users`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer SECRET-TOKEN-1',
        cookie: 'session=SECRET-COOKIE-1',
      },
      body: JSON.stringify({
        name: 'SECRET-NAME-1',
        email: 'secret-email-1@example.com',
      }),
    });
    await fetch(`${users!.url}/users`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Basic SECRET-TOKEN-2',
      },
      body: '{"name": "SECRET-NAME-2", broken',
    });
    await until((output) => output.includes('request completed'));
    const output = users!.output();
    expect(output).toContain('request completed');
    expect(output).not.toMatch(/SECRET|secret-email/);
  });

  it('keeps health and metrics out of info logs', async () => {
    await startUsers();
    await fetch(`${users!.url}/health/ready`);
    await fetch(`${users!.url}/metrics`);
    await settle();
    const routes = jsonLines(users!.output()).map((l) => l.route);
    expect(routes).not.toContain('/health/ready');
    expect(routes).not.toContain('/metrics');
  });

  it('logs at the level LOG_LEVEL sets', async () => {
    await startUsers({ LOG_LEVEL: 'warn' });
    await fetch(`${users!.url}/users/1`);
    await fetch(`${users!.url}/users/99`);
    await settle();
    expect(users!.output()).not.toContain('request completed');
    await users!.stop();

    await startUsers({ LOG_LEVEL: 'debug' });
    await fetch(`${users!.url}/health/live`);
    await until((output) => output.includes('"route":"/health/live"'));
    expect(jsonLines(users!.output())).toContainEqual(
      expect.objectContaining({ level: 20, route: '/health/live' }),
    );
  });

  it('writes human-readable lines when NODE_ENV is not production, with source maps on as nest start runs it', async () => {
    await startUsers({
      NODE_ENV: 'development',
      NODE_OPTIONS: '--enable-source-maps',
    });
    await fetch(`${users!.url}/users/1`, {
      headers: { 'x-request-id': 'pretty-1' },
    });
    await until((output) => output.includes('pretty-1'));
    const line = users!
      .output()
      .split('\n')
      .find((l) => l.includes('pretty-1'));
    expect(line).toMatch(/INFO.*request completed/);
    expect(line!.startsWith('{')).toBe(false);
  });

  describe('writes its lines in batches, and loses none as the process ends', () => {
    let dir: string;
    beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'lines-'))));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    /** The built users app with its standard output going to a file, as a log collector reads it. */
    async function usersWritingTo(file: string) {
      const port = await freePort();
      const child = spawn(process.execPath, [builtMain('users')], {
        env: {
          PATH: process.env.PATH,
          NODE_ENV: 'production',
          SHUTDOWN_DRAIN_MS: '0',
          USERS_PORT: String(port),
          NODE_OPTIONS: `--require ${join(__dirname, 'logging', 'faults.cjs')}`,
        },
        stdio: ['ignore', openSync(file, 'w'), 'ignore'],
      });
      const exited = new Promise<number | null>((resolve) =>
        child.on('exit', (code) => resolve(code)),
      );
      const url = `http://127.0.0.1:${port}`;
      await eventually(
        () =>
          fetch(`${url}/health/live`).then(
            (r) => r.status,
            () => 0,
          ),
        (status) => status === 200,
        'users to answer',
      );
      return { child, exited, url };
    }

    it.each([
      ['SIGTERM', 0],
      ['an uncaught exception', 1],
      ['process.exit', 3],
    ])('has the last lines before %s on disk', async (ending, code) => {
      const file = join(dir, `${code}.log`);
      const users = await usersWritingTo(file);
      const ids = Array.from({ length: 120 }, (_, i) => `last-${code}-${i}`);
      // Many lines at once, so that some are in a batch not yet written when the process ends.
      for (let i = 0; i < ids.length; i += 30)
        await Promise.all(
          ids.slice(i, i + 30).map((id) =>
            fetch(`${users.url}/users/1`, {
              headers: { 'x-request-id': id },
            }),
          ),
        );
      const last = `last-${code}-final`;
      ids.push(last);
      const fault = { 0: undefined, 1: 'throw', 3: 'exit' }[code];
      await fetch(`${users.url}/users/1`, {
        headers: { 'x-request-id': last, ...(fault && { 'x-fault': fault }) },
      });
      if (ending === 'SIGTERM') users.child.kill('SIGTERM');
      expect(await users.exited).toBe(code);
      const lines = jsonLines(readFileSync(file, 'utf8'));
      const written = new Set(lines.map((line) => line.request_id));
      expect(ids.filter((id) => !written.has(id))).toEqual([]);
      // A shutdown's own lines are the last it writes, milliseconds before it exits.
      if (ending === 'SIGTERM')
        expect(lines.at(-1)).toMatchObject({
          msg: expect.stringMatching(/^Drained/),
        });
    });
  });
});
