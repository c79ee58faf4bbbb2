import { Public } from '@app/auth';
import { Controller, INestApplication, Module, Put } from '@nestjs/common';
import {
  createTestApp,
  expectProblem,
  sendRaw,
  testConfig,
} from '@app/testing';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { App } from 'supertest/types';
import { service } from '../src/app.module';
import { UsersConfig } from '../src/users.config';

describe('users app safe defaults (e2e)', () => {
  let app: INestApplication<App>;

  async function boot(overrides: Partial<UsersConfig> = {}) {
    app = await createTestApp(
      service.module(testConfig(UsersConfig, overrides)),
    );
  }

  afterEach(async () => {
    await app.close();
  });

  const http = () => request(app.getHttpServer());

  describe('security headers', () => {
    beforeEach(() => boot());

    /** Every header of the families helmet and OWASP's cheat sheets deal in, as answered. */
    const securityHeadersOf = (headers: Record<string, string>) =>
      Object.fromEntries(
        Object.entries(headers).filter(([name]) =>
          /^(cache-control|content-security-policy|strict-transport-security|referrer-policy|origin-agent-cluster|x-|cross-origin-)/.test(
            name,
          ),
        ),
      );

    it.each([
      ['a JSON answer', '/users', 'no-store'],
      ['a problem', '/users/99', 'no-store'],
      ['a user, which may be kept and revalidated', '/users/1', 'no-cache'],
    ])(
      "are the API's set on %s (OWASP's REST Security Cheat Sheet), and x-powered-by is not",
      async (_case, path, cacheControl) => {
        const response = await http().get(path);
        expect(securityHeadersOf(response.headers)).toEqual({
          'cache-control': cacheControl,
          'content-security-policy':
            "default-src 'none'; frame-ancestors 'none'",
          'strict-transport-security': 'max-age=31536000; includeSubDomains',
          'x-content-type-options': 'nosniff',
          'x-frame-options': 'DENY',
          'x-request-id': expect.any(String),
        });
      },
    );

    it("are a page's on Swagger UI, which loads its own scripts, styles and images", async () => {
      const response = await http().get('/docs/');
      expect(response.status).toBe(200);
      const headers = securityHeadersOf(response.headers);
      expect(Object.keys(headers).sort()).toEqual([
        'content-security-policy',
        'cross-origin-opener-policy',
        'cross-origin-resource-policy',
        'origin-agent-cluster',
        'referrer-policy',
        'strict-transport-security',
        'x-content-type-options',
        'x-dns-prefetch-control',
        'x-download-options',
        'x-frame-options',
        'x-permitted-cross-domain-policies',
        'x-request-id',
        'x-xss-protection',
      ]);
      expect(headers['content-security-policy']).toContain("script-src 'self'");
      expect(headers['content-security-policy']).not.toContain(
        'upgrade-insecure-requests',
      );
      expect(headers['x-frame-options']).toBe('SAMEORIGIN');
    });
  });

  describe('CORS', () => {
    it('is off by default: no browser origin is allowed', async () => {
      await boot();
      const response = await http()
        .get('/users/1')
        .set('Origin', 'https://app.example.com');
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
      const preflight = await http()
        .options('/users')
        .set('Origin', 'https://app.example.com')
        .set('Access-Control-Request-Method', 'POST');
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('allows exactly the origins CORS_ORIGINS lists', async () => {
      await boot({
        CORS_ORIGINS: 'https://app.example.com,http://localhost:3000',
      });
      const allowed = await http()
        .get('/users/1')
        .set('Origin', 'http://localhost:3000');
      expect(allowed.headers['access-control-allow-origin']).toBe(
        'http://localhost:3000',
      );
      expect(allowed.headers['access-control-expose-headers']).toBe(
        'X-Request-Id,Retry-After,Idempotent-Replayed,WWW-Authenticate,ETag,Cache-Status',
      );
      const other = await http()
        .get('/users/1')
        .set('Origin', 'https://evil.example.com');
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('answers a preflight for a PATCH with If-Match, and lets the page read the ETag', async () => {
      await boot({ CORS_ORIGINS: 'https://app.example.com' });
      const preflight = await http()
        .options('/users/1')
        .set('Origin', 'https://app.example.com')
        .set('Access-Control-Request-Method', 'PATCH')
        .set('Access-Control-Request-Headers', 'content-type,if-match');
      expect(preflight.status).toBe(204);
      expect(preflight.headers['access-control-allow-methods']).toContain(
        'PATCH',
      );
      expect(preflight.headers['access-control-allow-headers']).toContain(
        'If-Match',
      );
      const user = await http()
        .get('/users/1')
        .set('Origin', 'https://app.example.com');
      expect(user.headers['access-control-expose-headers']).toContain('ETag');
    });

    it('answers a preflight for POST with an Idempotency-Key', async () => {
      await boot({ CORS_ORIGINS: 'https://app.example.com' });
      const preflight = await http()
        .options('/users')
        .set('Origin', 'https://app.example.com')
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'content-type,idempotency-key');
      expect(preflight.status).toBe(204);
      expect(preflight.headers['access-control-allow-origin']).toBe(
        'https://app.example.com',
      );
      expect(preflight.headers['access-control-allow-headers']).toContain(
        'Idempotency-Key',
      );
    });
  });

  describe('CORS methods', () => {
    @Controller('things')
    class ThingsController {
      @Put(':id')
      @Public()
      put(): object {
        return {};
      }
    }

    const preflight = (path: string, method: string) =>
      http()
        .options(path)
        .set('Origin', 'https://app.example.com')
        .set('Access-Control-Request-Method', method);

    it("are the methods the app's routes serve", async () => {
      await boot({ CORS_ORIGINS: 'https://app.example.com' });
      const answer = await preflight('/users', 'POST');
      expect(answer.headers['access-control-allow-methods']).toBe(
        'DELETE,GET,HEAD,PATCH,POST',
      );
    });

    it('follow a route added with a new method, with nothing else to change', async () => {
      @Module({
        imports: [
          service.module(
            testConfig(UsersConfig, {
              CORS_ORIGINS: 'https://app.example.com',
            }),
          ),
        ],
        controllers: [ThingsController],
      })
      class WithThings {}
      app = await createTestApp(WithThings);
      const answer = await preflight('/things/1', 'PUT');
      expect(answer.status).toBe(204);
      expect(answer.headers['access-control-allow-methods']).toBe(
        'DELETE,GET,HEAD,PATCH,POST,PUT',
      );
    });
  });

  describe('rate limiting', () => {
    it('is off by default', async () => {
      await boot();
      for (let i = 0; i < 30; i++) await http().get('/users/1').expect(200);
    });

    it('answers 429 problem+json with Retry-After past RATE_LIMIT_PER_MINUTE', async () => {
      await boot({ RATE_LIMIT_PER_MINUTE: 3 });
      for (let i = 0; i < 3; i++) await http().get('/users/1').expect(200);
      const limited = await http().get('/users/1');
      expectProblem(limited, 429);
      expect(limited.body.detail).toBe(
        'Too many requests: at most 3 a minute from one client',
      );
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    });

    it('counts per connecting address while TRUST_PROXY is unset: X-Forwarded-For changes nothing', async () => {
      await boot({ RATE_LIMIT_PER_MINUTE: 2 });
      const from = (client: string) =>
        http().get('/users/1').set('X-Forwarded-For', client);
      await from('203.0.113.1').expect(200);
      await from('203.0.113.2').expect(200);
      expectProblem(await from('203.0.113.3'), 429);
    });

    it('counts per client behind a proxy TRUST_PROXY names, as the proxy tells it', async () => {
      // supertest connects from loopback: the app is behind a proxy on loopback.
      await boot({ RATE_LIMIT_PER_MINUTE: 2, TRUST_PROXY: 'loopback' });
      const from = (client: string) =>
        http().get('/users/1').set('X-Forwarded-For', client);
      await from('203.0.113.1').expect(200);
      await from('203.0.113.1').expect(200);
      expectProblem(await from('203.0.113.1'), 429);
      // The next proxy's address is the client's: what the client itself claimed is not.
      expectProblem(await from('203.0.113.2, 203.0.113.1'), 429);
      await from('203.0.113.2').expect(200);
    });

    it('never limits health and metrics', async () => {
      await boot({ RATE_LIMIT_PER_MINUTE: 1 });
      for (let i = 0; i < 5; i++) {
        await http().get('/health/live').expect(200);
        await http().get('/health/ready').expect(200);
        await http().get('/metrics').expect(200);
      }
    });
  });

  describe('prototype pollution', () => {
    beforeEach(() => boot());

    afterEach(() => {
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
    });

    it.each([
      [
        '__proto__',
        '{"name":"X","email":"x@example.com","__proto__":{"polluted":true}}',
      ],
      [
        'constructor',
        '{"name":"X","email":"x@example.com","constructor":{"prototype":{"polluted":true}}}',
      ],
      [
        'prototype',
        '{"name":"X","email":"x@example.com","prototype":{"polluted":true}}',
      ],
      [
        '__proto__',
        '{"name":{"nested":[{"__proto__":{"polluted":true}}]},"email":"x@example.com"}',
      ],
    ])(
      'refuses a body with a %s key, and stores nothing',
      async (key, body) => {
        const response = await http()
          .post('/users')
          .set('Content-Type', 'application/json')
          .send(body);
        expectProblem(response, 400);
        expect(response.body.detail).toBe(
          `Request body must not contain the key "${key}"`,
        );
        await http()
          .get('/users')
          .expect((r) => expect(r.body.total).toBe(2));
      },
    );

    it('refuses such a key in the query string too', async () => {
      expectProblem(await http().get('/users?__proto__[polluted]=true'), 400);
      expectProblem(await http().get('/users?constructor=x'), 400);
    });
  });

  describe('a request Node cannot read', () => {
    let port: number;

    beforeEach(async () => {
      await boot();
      await app.listen(0, '127.0.0.1');
      ({ port } = (app.getHttpServer() as Server).address() as AddressInfo);
    });

    it('gets a 400 problem, not a bare status line, when it is not HTTP', async () => {
      const { head, body } = await sendRaw(port, 'NOT HTTP\r\n\r\n');
      expect(head.split('\r\n')).toEqual([
        'HTTP/1.1 400 Bad Request',
        'Content-Type: application/problem+json',
        `Content-Length: ${Buffer.byteLength(body)}`,
        'Connection: close',
      ]);
      expect(JSON.parse(body)).toEqual({
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        detail: 'The service could not read the request as HTTP.',
      });
    });

    it("gets a 431 problem when its headers are over Node's limit", async () => {
      const response = await fetch(`http://127.0.0.1:${port}/users/1`, {
        headers: { 'X-Long': 'a'.repeat(20_000) },
      });
      expect(response.status).toBe(431);
      expect(response.headers.get('content-type')).toBe(
        'application/problem+json',
      );
      await expect(response.json()).resolves.toEqual({
        type: 'about:blank',
        title: 'Request Header Fields Too Large',
        status: 431,
        detail:
          'The request headers are larger than the service takes (16 kB).',
      });
    });
  });
});
