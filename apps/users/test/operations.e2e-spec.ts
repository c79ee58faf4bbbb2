import { INestApplication } from '@nestjs/common';
import { Lifecycle } from '@app/platform';
import { DatabaseSettings } from '@app/storage';
import {
  createTestApp,
  expectProblem,
  parsePrometheusText,
  sampleValue,
  testConfig,
} from '@app/testing';
import request from 'supertest';
import { App } from 'supertest/types';
import { service } from '../src/app.module';
import { UsersConfig } from '../src/users.config';

const UUID =
  /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('users app operations (e2e)', () => {
  let app: INestApplication<App>;

  beforeEach(async () => {
    app = await createTestApp(
      service.module(testConfig(UsersConfig, { SHUTDOWN_DRAIN_MS: 300 })),
    );
  });

  afterEach(async () => {
    await app.close();
  });

  const http = () => request(app.getHttpServer());

  describe('health', () => {
    it('is live', async () => {
      await http()
        .get('/health/live')
        .expect(200, { status: 'ok', info: {}, error: {}, details: {} });
    });

    it('is ready once started', async () => {
      const response = await http().get('/health/ready').expect(200);
      expect(response.body).toMatchObject({
        status: 'ok',
        details: { lifecycle: { status: 'up', state: 'ready' } },
      });
    });

    it('answers readiness 503 at once while draining, and still serves requests', async () => {
      const draining = app.get(Lifecycle).drain('SIGTERM');
      const ready = await http().get('/health/ready');
      expectProblem(ready, 503);
      expect(ready.body.detail).toBe('Not ready: draining');
      expect(ready.body.health.details.lifecycle).toEqual({
        status: 'down',
        state: 'draining',
      });
      const served = await http().get('/users/1').expect(200);
      // Clients are told to leave their kept-alive connection for a replica that stays.
      expect(served.headers.connection).toBe('close');
      await http().get('/health/live').expect(200);
      await draining;
    });
  });

  describe('request ids', () => {
    it('gives a request without one a new UUID, in the response header', async () => {
      const response = await http().get('/users/1').expect(200);
      expect(response.headers['x-request-id']).toMatch(UUID);
    });

    it('gives each request its own id', async () => {
      const first = await http().get('/users/1');
      const second = await http().get('/users/1');
      expect(first.headers['x-request-id']).not.toBe(
        second.headers['x-request-id'],
      );
    });

    it.each(['abc-123', 'A.b_C-9', 'x'.repeat(128)])(
      'keeps a sane incoming id %p',
      async (id) => {
        const response = await http()
          .get('/users/1')
          .set('X-Request-Id', id)
          .expect(200);
        expect(response.headers['x-request-id']).toBe(id);
      },
    );

    it.each([
      ['too long', 'x'.repeat(129)],
      ['with spaces', 'a b'],
      ['with a newline escape', 'a%0Ab'],
      ['with quotes', '"abc"'],
      ['with a slash', 'a/b'],
      ['empty', ''],
    ])('replaces an id that is %s with a new UUID', async (_case, id) => {
      const response = await http()
        .get('/users/1')
        .set('X-Request-Id', id)
        .expect(200);
      expect(response.headers['x-request-id']).toMatch(UUID);
    });

    it('puts the request id into problem bodies', async () => {
      const response = await http()
        .get('/users/99')
        .set('X-Request-Id', 'trace-me-1');
      expectProblem(response, 404);
      expect(response.body.request_id).toBe('trace-me-1');
      expect(response.headers['x-request-id']).toBe('trace-me-1');
    });

    it('has a request id even when the body parser refuses the body', async () => {
      const response = await http()
        .post('/users')
        .set('Content-Type', 'application/json')
        .set('X-Request-Id', 'bad-json-1')
        .send('{');
      expectProblem(response, 400);
      expect(response.body.request_id).toBe('bad-json-1');
    });
  });

  describe('metrics', () => {
    async function scrape() {
      const response = await http().get('/metrics').expect(200);
      expect(response.headers['content-type']).toMatch(
        /^text\/plain; version=0\.0\.4/,
      );
      return parsePrometheusText(response.text);
    }

    it('serves Prometheus text with Node process metrics', async () => {
      const samples = await scrape();
      expect(
        sampleValue(samples, 'process_cpu_user_seconds_total'),
      ).toBeGreaterThan(0);
      expect(
        sampleValue(samples, 'nodejs_heap_size_total_bytes'),
      ).toBeGreaterThan(0);
    });

    it('counts requests by method, route template and status', async () => {
      await http().get('/users/1').expect(200);
      await http().get('/users/2').expect(200);
      await http().get('/users/99').expect(404);
      await http()
        .post('/users')
        .send({ name: 'C', email: 'c@example.com' })
        .expect(201);
      const samples = await scrape();
      const count = (labels: Record<string, string>) =>
        sampleValue(samples, 'http_request_duration_seconds_count', labels);
      expect(
        count({ method: 'GET', route: '/users/:id', status_code: '200' }),
      ).toBe(2);
      expect(
        count({ method: 'GET', route: '/users/:id', status_code: '404' }),
      ).toBe(1);
      expect(
        count({ method: 'POST', route: '/users', status_code: '201' }),
      ).toBe(1);
      expect(
        sampleValue(samples, 'http_request_duration_seconds_bucket', {
          method: 'GET',
          route: '/users/:id',
          status_code: '200',
          le: '+Inf',
        }),
      ).toBe(2);
    });

    it('keeps health and metrics out of the request histogram', async () => {
      await http().get('/health/live').expect(200);
      await http().get('/health/ready').expect(200);
      await scrape();
      const samples = await scrape();
      const routes = samples
        .filter((s) => s.name === 'http_request_duration_seconds_count')
        .map((s) => s.labels.route)
        // The response check reads /openapi.json when the app boots.
        .filter((route) => route !== '/openapi.json');
      expect(routes).toEqual([]);
    });

    it("reports the database's health and pool when the app has one, and nothing of it when not", async () => {
      const samples = await scrape();
      const state = (name: string, labels?: Record<string, string>) =>
        sampleValue(samples, name, labels);
      if (app.get(DatabaseSettings).DATABASE_URL) {
        expect(state('database_up')).toBe(1);
        expect(state('database_pool_max')).toBe(10);
        const [used, idle, waiting] = ['used', 'idle', 'waiting'].map((name) =>
          state('database_pool_connections', { state: name }),
        );
        // The scrape's own query holds or awaits a connection while the pool is read.
        expect(used! + idle!).toBeGreaterThanOrEqual(1);
        expect(used! + idle!).toBeLessThanOrEqual(10);
        expect(waiting).toBeGreaterThanOrEqual(0);
      } else {
        expect(samples.some((s) => s.name.startsWith('database_'))).toBe(false);
      }
    });

    it('labels requests that matched no route as unmatched, not by their path', async () => {
      await http().get('/nope/123').expect(404);
      const samples = await scrape();
      expect(
        sampleValue(samples, 'http_request_duration_seconds_count', {
          route: 'unmatched',
          status_code: '404',
        }),
      ).toBe(1);
    });
  });
});
