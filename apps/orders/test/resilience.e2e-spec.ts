import { INestApplication, Logger } from '@nestjs/common';
import {
  answer,
  createTestApp,
  eventually,
  expectProblem,
  hang,
  parsePrometheusText,
  StandInHandler,
  StandInServer,
  testConfig,
} from '@app/testing';
import request from 'supertest';
import { App } from 'supertest/types';
import { service } from '../src/app.module';
import { OrdersConfig } from '../src/orders.config';

const ALICE = '{"name":"Alice","email":"alice@example.com"}';
const BOB = '{"name":"Bob","email":"bob@example.com"}';

/** Plays users: each call takes the next handler of the script, the last one forever after. */
function script(...handlers: StandInHandler[]): StandInHandler {
  let call = 0;
  return (req, res) =>
    handlers[Math.min(call++, handlers.length - 1)](req, res);
}

const healthy: StandInHandler = (req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(req.url === '/users/2' ? BOB : ALICE);
};
const reset: StandInHandler = (req) => req.socket.destroy();
const slowly =
  (ms: number, handler: StandInHandler): StandInHandler =>
  (req, res) =>
    setTimeout(() => handler(req, res), ms);

describe('resilient calls to users (e2e, against a real stand-in server)', () => {
  let app: INestApplication<App>;
  let users: StandInServer;

  async function boot(
    handler: StandInHandler,
    overrides: Partial<OrdersConfig> = {},
  ) {
    users = await StandInServer.start(handler);
    app = await createTestApp(
      service.module(
        testConfig(OrdersConfig, {
          USERS_SERVICE_URL: users.url,
          USERS_SERVICE_TIMEOUT_MS: 1000,
          USERS_SERVICE_ATTEMPT_TIMEOUT_MS: 300,
          USERS_SERVICE_RETRY_DELAY_MS: 10,
          USERS_SERVICE_BREAKER_COOLDOWN_MS: 300,
          ...overrides,
        }),
      ),
    );
  }

  afterEach(async () => {
    await app?.close();
    await users?.close();
    jest.restoreAllMocks();
  });

  const http = () => request(app.getHttpServer());
  const calls = () =>
    users.requests.filter((r) => r.url !== '/health/live').length;

  describe('retries', () => {
    it('gets the order after users fails twice: the stand-in saw exactly 3 calls', async () => {
      await boot(
        script(answer(503, 'busy', 'text/plain'), answer(502, '{}'), healthy),
      );
      await http()
        .get('/orders/1')
        .expect(200, {
          user_id: 1,
          product: 'Laptop',
          user: { name: 'Alice', email: 'alice@example.com' },
        });
      expect(calls()).toBe(3);
    });

    it('retries a connection reset', async () => {
      await boot(script(reset, reset, healthy));
      await http().get('/orders/1').expect(200);
      expect(calls()).toBe(3);
    });

    it('retries an attempt that timed out, within the deadline', async () => {
      await boot(script(hang, healthy));
      await http().get('/orders/1').expect(200);
      expect(calls()).toBe(2);
    });

    it('gives up after 2 retries of a 502 or 504 with 502', async () => {
      await boot(
        script(answer(502, '{}'), answer(504, '{}'), answer(502, '{}')),
      );
      expectProblem(await http().get('/orders/1'), 502);
      expect(calls()).toBe(3);
    });

    it('gives up after 2 retries of a 503 with 503 and Retry-After: users is up, unable for now', async () => {
      await boot(answer(503, 'busy', 'text/plain'));
      const response = await http().get('/orders/1');
      expectProblem(response, 503);
      expect(response.body.detail).toBe(
        'The users service is unavailable for now',
      );
      expect(response.headers['retry-after']).toBe('1');
      expect(calls()).toBe(3);
    });

    it('retries no more than USERS_SERVICE_RETRIES says', async () => {
      await boot(answer(502, '{}'), {
        USERS_SERVICE_RETRIES: 0,
      });
      expectProblem(await http().get('/orders/1'), 502);
      expect(calls()).toBe(1);
    });

    it.each([
      [500, 502],
      [400, 502],
      [401, 502],
      [429, 502],
    ])('never retries a %s', async (status, answered) => {
      await boot(answer(status, '{}'));
      expectProblem(await http().get('/orders/1'), answered);
      expect(calls()).toBe(1);
    });

    it('never retries a 404: the user is gone, once', async () => {
      await boot(answer(404, '{}'));
      await http()
        .get('/orders/1')
        .expect(200, { user_id: 1, product: 'Laptop', user: null });
      expect(calls()).toBe(1);
    });

    it('answers 504 at the deadline, however many attempts are left', async () => {
      await boot(hang, {
        USERS_SERVICE_TIMEOUT_MS: 400,
        USERS_SERVICE_ATTEMPT_TIMEOUT_MS: 300,
      });
      const started = performance.now();
      const response = await http().get('/orders/1');
      const elapsed = performance.now() - started;
      expectProblem(response, 504);
      expect(response.body.detail).toBe(
        'The users service did not answer within 400 ms',
      );
      expect(calls()).toBe(2);
      expect(elapsed).toBeGreaterThanOrEqual(395);
      // The answer comes at the deadline, not after the attempts left; the bound is generous.
      expect(elapsed).toBeLessThan(400 + 1000);
    });
  });

  describe('POST /orders', () => {
    it('is not retried into a duplicate when users answers 500', async () => {
      let failing = true;
      await boot((req, res) =>
        (failing ? answer(500, '{}') : healthy)(req, res),
      );
      const body = { user_id: 2, product: 'Tablet' };
      expectProblem(await http().post('/orders').send(body), 502);
      expect(calls()).toBe(1);
      await http()
        .get('/orders')
        .expect(200)
        .expect((r) => expect(r.body.total).toBe(2));

      failing = false;
      await http().post('/orders').send(body).expect(201, { order_id: 3 });
      const list = await http().get('/orders?user_id=2').expect(200);
      expect(
        list.body.items.filter(
          (o: { product: string }) => o.product === 'Tablet',
        ),
      ).toEqual([{ order_id: 3, user_id: 2, product: 'Tablet' }]);
    });

    it('retries the users check (a GET), and stores the order once', async () => {
      await boot(script(answer(503, 'busy', 'text/plain'), healthy));
      await http()
        .post('/orders')
        .send({ user_id: 2, product: 'Tablet' })
        .expect(201, { order_id: 3 });
      expect(calls()).toBe(2);
      await http()
        .get('/orders')
        .expect((r) => expect(r.body.total).toBe(3));
    });
  });

  describe('circuit breaker', () => {
    /** users_client_circuit_state, by state, as Prometheus would scrape it. */
    async function circuitGauge(): Promise<Record<string, number>> {
      const samples = parsePrometheusText(
        (await http().get('/metrics').expect(200)).text,
      );
      return Object.fromEntries(
        samples
          .filter((sample) => sample.name === 'users_client_circuit_state')
          .map((sample) => [sample.labels.state, sample.value]),
      );
    }

    it('opens after 5 failed attempts, answers 503 at once without calling users, and closes after a good probe', async () => {
      const stateLog = jest.spyOn(Logger.prototype, 'warn');
      const closedLog = jest.spyOn(Logger.prototype, 'log');
      let down = true;
      // A failing users app that takes 500 ms to fail, so not calling it is visibly quicker.
      await boot(
        slowly(500, (req, res) =>
          (down ? answer(502, '{}') : healthy)(req, res),
        ),
        {
          USERS_SERVICE_TIMEOUT_MS: 5000,
          USERS_SERVICE_ATTEMPT_TIMEOUT_MS: 1000,
        },
      );

      // 3 failed attempts, then 2 more: the 5th opens the circuit and the last retry is refused.
      expectProblem(await http().get('/orders/1'), 502);
      const opening = await http().get('/orders/1');
      expectProblem(opening, 503);
      expect(calls()).toBe(5);
      expect(stateLog).toHaveBeenCalledWith(
        'Circuit to the users service is open',
      );

      const started = performance.now();
      const refused = await http().get('/orders/1');
      const elapsed = performance.now() - started;
      expectProblem(refused, 503);
      expect(refused.body.detail).toBe(
        'The users service is unavailable (circuit open after repeated failures)',
      );
      expect(refused.headers['retry-after']).toBe('1');
      expect(calls()).toBe(5);
      // Quicker than one call to users could be (500 ms).
      expect(elapsed).toBeLessThan(500);

      const ready = await http().get('/health/ready').expect(200);
      expect(ready.body.details.users.circuit).toBe('open');
      await expect(circuitGauge()).resolves.toEqual({
        closed: 0,
        open: 1,
        'half-open': 0,
      });

      down = false;
      await new Promise((resolve) => setTimeout(resolve, 350));
      await http().get('/orders/1').expect(200);
      expect(calls()).toBe(6);
      expect(closedLog).toHaveBeenCalledWith(
        'Circuit to the users service is closed',
      );
      const recovered = await http().get('/health/ready').expect(200);
      expect(recovered.body.details.users).toMatchObject({
        reachable: true,
        circuit: 'closed',
      });
      await expect(circuitGauge()).resolves.toEqual({
        closed: 1,
        open: 0,
        'half-open': 0,
      });
    });

    it('opens again when the probe after the cool-down fails', async () => {
      await boot(answer(502, '{}'), {
        USERS_SERVICE_BREAKER_THRESHOLD: 2,
      });
      await http().get('/orders/1').expect(503);
      expect(calls()).toBe(2);
      await new Promise((resolve) => setTimeout(resolve, 350));
      // One probe goes through, fails, and the circuit opens again.
      await http().get('/orders/1').expect(503);
      expect(calls()).toBe(3);
      await http().get('/orders/1').expect(503);
      expect(calls()).toBe(3);
    });

    it('counts a 500 as a failure: five in a row open the circuit, though none is retried', async () => {
      // A cool-down no loaded machine outlasts between the calls below, and deadlines it does not
      // reach: a timeout would be a failure too, and hide whether the 500s counted.
      await boot(answer(500, '{}'), {
        USERS_SERVICE_BREAKER_COOLDOWN_MS: 60_000,
        USERS_SERVICE_TIMEOUT_MS: 10_000,
        USERS_SERVICE_ATTEMPT_TIMEOUT_MS: 10_000,
      });
      for (let i = 1; i <= 5; i++) {
        const failed = await http().get('/orders/1');
        expectProblem(failed, 502);
        expect(failed.body.detail).toBe(
          'The users service gave an invalid answer',
        );
        expect(calls()).toBe(i);
      }
      const refused = await http().get('/orders/1');
      expectProblem(refused, 503);
      expect(refused.body.detail).toBe(
        'The users service is unavailable (circuit open after repeated failures)',
      );
      expect(refused.headers['retry-after']).toBe('60');
      expect(calls()).toBe(5);
    });

    it('says half-open in readiness while the probe after the cool-down is in flight', async () => {
      let usersState: 'down' | 'holding' | 'up' = 'down';
      const held: Parameters<StandInHandler>[] = [];
      await boot(
        (req, res) => {
          if (usersState === 'holding' && req.url !== '/health/live')
            held.push([req, res]);
          else if (usersState === 'down' && req.url !== '/health/live')
            // A 500 counts towards the circuit (a 503 does not).
            answer(500, 'down', 'text/plain')(req, res);
          else healthy(req, res);
        },
        {
          USERS_SERVICE_RETRIES: 0,
          USERS_SERVICE_BREAKER_THRESHOLD: 1,
          // The stand-in holds the probe until the test has looked: no deadline may end it first.
          USERS_SERVICE_TIMEOUT_MS: 20_000,
          USERS_SERVICE_ATTEMPT_TIMEOUT_MS: 20_000,
        },
      );
      expectProblem(await http().get('/orders/1'), 502);
      const open = await http().get('/health/ready').expect(200);
      expect(open.body.details.users.circuit).toBe('open');

      // Calls answered 503 at once until the cool-down is over; then one goes through, and is held.
      usersState = 'holding';
      const sent: Promise<request.Response>[] = [];
      await eventually(
        () => {
          if (held.length === 0)
            sent.push(
              http()
                .get('/orders/1')
                .then((r) => r),
            );
          return held.length;
        },
        (count) => count > 0,
        'the probe after the cool-down to reach users',
      );
      const halfOpen = await http().get('/health/ready');
      // Released before anything is asserted, so that a failure does not leave the app waiting.
      usersState = 'up';
      for (const [req, res] of held.splice(0)) healthy(req, res);
      const statuses = (await Promise.all(sent)).map((r) => r.status);

      expect(halfOpen.status).toBe(200);
      expect(halfOpen.body.details.users).toEqual({
        status: 'up',
        reachable: true,
        circuit: 'half-open',
      });
      // 503s while the circuit was open, then the probe's 200 (and that of any call that waited
      // for the probe's verdict).
      const probed = statuses.indexOf(200);
      expect(probed).toBeGreaterThanOrEqual(0);
      expect(statuses).toEqual(
        statuses.map((_, i) => (i < probed ? 503 : 200)),
      );
      const closed = await http().get('/health/ready').expect(200);
      expect(closed.body.details.users.circuit).toBe('closed');
    });

    it('does not count a 503: users is up and answering, only unable to serve for now', async () => {
      await boot(answer(503, 'down', 'text/plain'), {
        USERS_SERVICE_BREAKER_THRESHOLD: 1,
      });
      for (let i = 0; i < 3; i++) await http().get('/orders/1').expect(503);
      // Every call tried all its attempts: none was refused by an open circuit.
      expect(calls()).toBe(9);
      const ready = await http().get('/health/ready').expect(200);
      expect(ready.body.details.users.circuit).toBe('closed');
    });

    it('does not count a 404 as a failure', async () => {
      await boot(answer(404, '{}'), { USERS_SERVICE_BREAKER_THRESHOLD: 1 });
      for (let i = 0; i < 3; i++) await http().get('/orders/1').expect(200);
      expect(calls()).toBe(3);
    });
  });

  describe('bulkhead', () => {
    it('answers calls beyond the bound with 503 at once, with Retry-After', async () => {
      await boot(hang, {
        USERS_SERVICE_MAX_CONCURRENCY: 2,
        USERS_SERVICE_TIMEOUT_MS: 500,
        USERS_SERVICE_ATTEMPT_TIMEOUT_MS: 500,
      });
      const first = http()
        .get('/orders/1')
        .then((r) => r);
      const second = http()
        .get('/orders/2')
        .then((r) => r);
      while (calls() < 2)
        await new Promise((resolve) => setTimeout(resolve, 5));
      const third = await http().get('/orders/1');
      expectProblem(third, 503);
      expect(third.body.detail).toBe(
        'The users service is busy: too many calls to it are in flight',
      );
      expect(third.headers['retry-after']).toBe('1');
      expect(calls()).toBe(2);
      expectProblem(await first, 504);
      expectProblem(await second, 504);
      // The bound frees up as calls end.
      expectProblem(await http().get('/orders/1'), 504);
    });

    it('shows a call it turns away the copy users last confirmed, within the stale window', async () => {
      const withTag: StandInHandler = (_req, res) => {
        res.writeHead(200, {
          'content-type': 'application/json',
          etag: '"a1"',
          'cache-control': 'no-cache',
        });
        res.end(ALICE);
      };
      await boot(script(withTag, hang), {
        USERS_SERVICE_MAX_CONCURRENCY: 2,
        USERS_SERVICE_TIMEOUT_MS: 500,
        USERS_SERVICE_ATTEMPT_TIMEOUT_MS: 500,
      });
      expect((await http().get('/orders/1')).status).toBe(200);
      // Two calls for user 2, of whom orders has no copy, fill the bulkhead.
      const held = [1, 2].map(() =>
        http()
          .get('/orders/2')
          .then((r) => r),
      );
      while (calls() < 3)
        await new Promise((resolve) => setTimeout(resolve, 5));
      const turnedAway = await http().get('/orders/1');
      expect(turnedAway.status).toBe(200);
      expect(turnedAway.body.user).toEqual(JSON.parse(ALICE));
      expect(turnedAway.headers['cache-status']).toMatch(
        /^orders; hit; ttl=-\d+; detail=stale-if-error$/,
      );
      expect(calls()).toBe(3);
      for (const response of await Promise.all(held))
        expectProblem(response, 504);
    });
  });
});
