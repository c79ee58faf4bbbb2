import {
  BuiltApp,
  eventually,
  freePort,
  hang,
  startBuiltApp,
  StandInServer,
} from '@app/testing';
import { KEEP_ALIVE_TIMEOUT_MS } from '@app/platform';
import { connect, Socket } from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a fetch ended with: a status, or the network error's code. */
async function outcome(url: string): Promise<number | string> {
  try {
    const response = await fetch(url);
    await response.arrayBuffer();
    return response.status;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return cause?.code ?? String(error);
  }
}

/**
 * One kept-alive connection, by hand: a client that decides itself when to send on it, and sees
 * whether the server has closed it.
 */
class KeptAliveConnection {
  private received = '';
  ended = false;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (this.received += chunk));
    socket.on('end', () => (this.ended = true));
    socket.on('close', () => (this.ended = true));
    socket.on('error', () => (this.ended = true));
  }

  static async open(port: number): Promise<KeptAliveConnection> {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    return new KeptAliveConnection(socket);
  }

  /** Sends a GET and waits for its whole answer: the status and the headers. */
  async get(path: string): Promise<{ status: number; headers: string }> {
    this.received = '';
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    const answer = await eventually(
      () => /^HTTP\/1\.1 (\d+)[^]*?\r\n\r\n/.exec(this.received),
      (match) => {
        if (this.ended && !match) throw new Error('closed without an answer');
        if (!match) return false;
        const length = /content-length: (\d+)/i.exec(match[0])?.[1];
        return this.received.length >= match[0].length + Number(length ?? 0);
      },
      `the answer to GET ${path}`,
    );
    return { status: Number(answer![1]), headers: answer![0].toLowerCase() };
  }

  close(): void {
    this.socket.destroy();
  }
}

const waitFor = (condition: () => boolean, what: string) =>
  eventually(condition, Boolean, what);

/** Polls `url` until it ends with `expected`, so that a slow signal delivery is not a failure. */
const waitForOutcome = (url: string, expected: number | string) =>
  eventually(
    () => outcome(url),
    (last) => last === expected,
    `${url} to end with ${expected}`,
  );

describe('graceful shutdown of a built app (real process, real signal)', () => {
  let app: BuiltApp | undefined;
  let users: StandInServer | undefined;

  afterEach(async () => {
    await app?.stop('SIGKILL');
    await users?.close();
    app = users = undefined;
  });

  it('finishes a request in flight at SIGTERM with 200, drains, refuses new connections, exits 0', async () => {
    // A users app that answers only when told, so the order request is in flight for as long as
    // the test needs, however slow the machine.
    let answerUsers!: () => void;
    const usersMayAnswer = new Promise<void>(
      (resolve) => (answerUsers = resolve),
    );
    users = await StandInServer.start((_req, res) => {
      void usersMayAnswer.then(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"name":"Alice","email":"alice@example.com"}');
      });
    });
    const port = await freePort();
    app = await startBuiltApp('orders', port, {
      ORDERS_PORT: String(port),
      USERS_SERVICE_URL: users.url,
      USERS_SERVICE_TIMEOUT_MS: '60000',
      USERS_SERVICE_ATTEMPT_TIMEOUT_MS: '60000',
      SHUTDOWN_DRAIN_MS: '2000',
    });

    const inFlight = fetch(`${app.url}/orders/1`);
    await waitFor(
      () => users!.requests.length === 1,
      'the order request to reach users',
    );
    app.process.kill('SIGTERM');

    // Soon after the signal: not ready, yet still serving.
    await waitForOutcome(`${app.url}/health/ready`, 503);
    await expect(outcome(`${app.url}/health/live`)).resolves.toBe(200);

    // After the drain period: the listener is closed, while the old request is still running.
    await waitForOutcome(`${app.url}/health/live`, 'ECONNREFUSED');
    answerUsers();

    const response = await inFlight;
    expect(response.status).toBe(200);
    await expect(response.json()).resolves.toEqual({
      user_id: 1,
      product: 'Laptop',
      user: { name: 'Alice', email: 'alice@example.com' },
    });
    await expect(app.exited).resolves.toBe(0);
    expect(app.output()).toContain(
      'SIGTERM received: not ready, draining for 2000 ms',
    );
  });

  it('under load, answers every request it accepted with 200: no 5xx, no reset', async () => {
    const port = await freePort();
    app = await startBuiltApp('users', port, {
      USERS_PORT: String(port),
      SHUTDOWN_DRAIN_MS: '1000',
    });
    // Clients behind a load balancer: they keep sending until the balancer sees readiness fail,
    // which is what the drain period is for.
    let routing = true;
    const balancer = (async () => {
      while ((await outcome(`${app!.url}/health/ready`)) === 200)
        await sleep(25);
      routing = false;
    })();
    const results: (number | string)[] = [];
    let servedAfterSignal = 0;
    let signalled = false;
    const client = async () => {
      while (routing) {
        const result = await outcome(`${app!.url}/users/1`);
        results.push(result);
        if (signalled && result === 200) servedAfterSignal += 1;
      }
    };
    const clients = Array.from({ length: 8 }, client);
    // Counted, not timed: a loaded machine serves fewer requests in any given time.
    await waitFor(() => results.length >= 40, 'traffic before the signal');
    signalled = true;
    app.process.kill('SIGTERM');
    await Promise.all([balancer, ...clients]);

    await expect(app.exited).resolves.toBe(0);
    expect(results.filter((r) => r !== 200)).toEqual([]);
    // Requests that arrived after the signal, before the balancer noticed, were served.
    expect(servedAfterSignal).toBeGreaterThan(0);
  });

  it('bounds the shutdown: a request still running after SHUTDOWN_TIMEOUT_MS is cut, and the process exits 0', async () => {
    users = await StandInServer.start(hang);
    const port = await freePort();
    app = await startBuiltApp('orders', port, {
      ORDERS_PORT: String(port),
      USERS_SERVICE_URL: users.url,
      USERS_SERVICE_TIMEOUT_MS: '60000',
      USERS_SERVICE_ATTEMPT_TIMEOUT_MS: '60000',
      SHUTDOWN_DRAIN_MS: '100',
      SHUTDOWN_TIMEOUT_MS: '300',
    });
    const stuck = outcome(`${app.url}/orders/1`);
    await waitFor(
      () => users!.requests.length === 1,
      'the order request to reach users',
    );
    const started = performance.now();
    app.process.kill('SIGTERM');
    await expect(app.exited).resolves.toBe(0);
    // Generous: the point is that it ends near drain + timeout (0.4 s), not after the users
    // call's 60 s, nor that it is fast.
    expect(performance.now() - started).toBeLessThan(15_000);
    await expect(stuck).resolves.not.toBe(200);
    expect(app.output()).toContain(
      'Requests still in flight after the shutdown timeout',
    );
  });

  it('keeps connections alive through the drain, then closes each after its next answer, never an idle one', async () => {
    const port = await freePort();
    app = await startBuiltApp('users', port, {
      USERS_PORT: String(port),
      SHUTDOWN_DRAIN_MS: '1000',
    });
    const connection = await KeptAliveConnection.open(port);
    try {
      const before = await connection.get('/users/1');
      expect(before.status).toBe(200);
      // Idle connections are the balancer's to close, and it closes them sooner.
      expect(before.headers).toContain(
        `keep-alive: timeout=${KEEP_ALIVE_TIMEOUT_MS / 1000}`,
      );

      app.process.kill('SIGTERM');
      await waitForOutcome(`${app.url}/health/ready`, 503);
      // Draining: not ready, and still keeping the connection, so that a balancer that does
      // not watch readiness opens no new ones until the listener closes.
      const draining = await connection.get('/users/1');
      expect(draining.status).toBe(200);
      expect(draining.headers).not.toContain('connection: close');

      await waitForOutcome(`${app.url}/health/live`, 'ECONNREFUSED');
      // The listener is closed, and the idle connection is still there: a request sent on it
      // now is answered, and told that the connection closes after it.
      expect(connection.ended).toBe(false);
      const after = await connection.get('/users/1');
      expect(after.status).toBe(200);
      expect(after.headers).toContain('connection: close');
      await waitFor(() => connection.ended, 'the connection to close');
      await expect(app.exited).resolves.toBe(0);
    } finally {
      connection.close();
    }
  });

  it('cuts a connection its client keeps idle once SHUTDOWN_TIMEOUT_MS is over, and exits 0 without a word about requests in flight', async () => {
    const port = await freePort();
    app = await startBuiltApp('users', port, {
      USERS_PORT: String(port),
      SHUTDOWN_DRAIN_MS: '0',
      SHUTDOWN_TIMEOUT_MS: '300',
    });
    const connection = await KeptAliveConnection.open(port);
    try {
      expect((await connection.get('/users/1')).status).toBe(200);
      app.process.kill('SIGTERM');
      await expect(app.exited).resolves.toBe(0);
      await waitFor(() => connection.ended, 'the connection to be cut');
      expect(app.output()).not.toContain('Requests still in flight');
    } finally {
      connection.close();
    }
  });

  it('shuts down the same way on SIGINT (Ctrl-C)', async () => {
    const port = await freePort();
    app = await startBuiltApp('users', port, {
      USERS_PORT: String(port),
      SHUTDOWN_DRAIN_MS: '2000',
    });
    app.process.kill('SIGINT');
    await waitForOutcome(`${app.url}/health/ready`, 503);
    await expect(app.exited).resolves.toBe(0);
  });

  it('stops at once, with exit code 1, on a second signal during the drain', async () => {
    const port = await freePort();
    app = await startBuiltApp('users', port, {
      USERS_PORT: String(port),
      SHUTDOWN_DRAIN_MS: '20000',
    });
    app.process.kill('SIGINT');
    await waitForOutcome(`${app.url}/health/ready`, 503);
    app.process.kill('SIGINT');
    await expect(app.exited).resolves.toBe(1);
  });
});
