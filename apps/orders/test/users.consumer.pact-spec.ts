import { INestApplication } from '@nestjs/common';
import { MatchersV3, PactV4 } from '@pact-foundation/pact';
import { createTestApp, PACT_DIR, pactFile, testConfig } from '@app/testing';
import { rmSync } from 'node:fs';
import { service } from '../src/app.module';
import { OrdersConfig } from '../src/orders.config';
import { UsersReadiness } from '../src/users-client/users-readiness.indicator';
import { UsersClient } from '../src/users-client/users.client';

const { fromProviderState, like, regex } = MatchersV3;

// Pact merges into an existing file: a stale interaction would survive the one that replaced it.
rmSync(pactFile('orders', 'users'), { force: true });

/**
 * What orders relies on from users, written down by driving the real UsersClient against Pact's
 * mock of users: the pact file that the users app's verification replays (apps/users/test).
 */
describe('orders, as a consumer of users (Pact)', () => {
  const pact = new PactV4({
    consumer: 'orders',
    provider: 'users',
    dir: PACT_DIR,
    logLevel: 'warn',
  });

  /** The real client, wired by the orders app itself, pointed at the mock server. */
  async function withUsersClient<T>(
    url: string,
    use: (client: UsersClient, app: INestApplication) => Promise<T>,
  ): Promise<T> {
    const app: INestApplication = await createTestApp(
      service.module(testConfig(OrdersConfig, { USERS_SERVICE_URL: url })),
    );
    try {
      return await use(app.get(UsersClient), app);
    } finally {
      await app.close();
    }
  }

  it('gets a user that exists: its name and email', async () => {
    await pact
      .addInteraction()
      .given('a user exists', { name: 'Carol', email: 'carol@example.com' })
      .uponReceiving('a request for that user')
      .withRequest('GET', fromProviderState('/users/${id}', '/users/7'))
      .willRespondWith(200, (response) =>
        response
          .headers({
            'Content-Type': regex(
              /^application\/json(;.*)?$/.source,
              'application/json; charset=utf-8',
            ),
          })
          // The two fields orders copies into an order, each a string; users may add others.
          .jsonBody({
            name: like('Carol'),
            email: regex(/^[^@\s]+@[^@\s]+$/.source, 'carol@example.com'),
          }),
      )
      .executeTest(async (server) => {
        await expect(
          withUsersClient(server.url, (client) => client.findUser(7)),
        ).resolves.toEqual({ name: 'Carol', email: 'carol@example.com' });
      });
  });

  it('revalidates the copy it holds with If-None-Match: a 304 serves the copy', async () => {
    const dave = { name: 'Dave', email: 'dave@example.com' };
    // Both interactions on one mock server: the first is added to the pact without running a test
    // of its own. The conditional request first: the mock server answers a request by the first
    // interaction it matches, and the plain one would match a request with If-None-Match too.
    pact
      .addInteraction()
      // Each interaction's state is set up on its own: another user, of the same shape.
      .given("orders holds the current ETag of a user's copy", {
        name: 'Dave',
        email: 'dave.copied@example.com',
      })
      .uponReceiving('a revalidation of that user, still current')
      .withRequest(
        'GET',
        fromProviderState('/users/${id}', '/users/8'),
        (request) =>
          request.headers({
            'If-None-Match': fromProviderState('${etag}', '"v1-dave"'),
          }),
      )
      // What it repeats of the copy's caching: orders keeps the copy on it (see UsersCache).
      .willRespondWith(304, (response) =>
        response.headers({ 'Cache-Control': 'no-cache' }),
      );
    await pact
      .addInteraction()
      .given('a user exists', dave)
      .uponReceiving('a request for that user, which orders keeps a copy of')
      .withRequest('GET', fromProviderState('/users/${id}', '/users/8'))
      .willRespondWith(200, (response) =>
        response
          .headers({
            // What lets orders keep a copy and ask for it again conditionally.
            ETag: regex(/^"[^"]+"$/.source, '"v1-dave"'),
            'Cache-Control': 'no-cache',
          })
          .jsonBody({ name: like('Dave'), email: like('dave@example.com') }),
      )
      .executeTest(async (server) => {
        await withUsersClient(server.url, async (client) => {
          await expect(client.findUser(8)).resolves.toEqual(dave);
          await expect(client.findUser(8)).resolves.toEqual(dave);
        });
      });
  });

  it('learns that an erased user is gone from a 404', async () => {
    await pact
      .addInteraction()
      .given('a user was erased', { name: 'Erin', email: 'erin@example.com' })
      .uponReceiving('a request for an erased user')
      .withRequest('GET', fromProviderState('/users/${id}', '/users/9'))
      .willRespondWith(404)
      .executeTest(async (server) => {
        await expect(
          withUsersClient(server.url, (client) => client.findUser(9)),
        ).resolves.toBeNull();
      });
  });

  it('learns that a user does not exist from a 404', async () => {
    await pact
      .addInteraction()
      .given('no user has the id', { id: 999_999 })
      .uponReceiving('a request for a user that does not exist')
      .withRequest('GET', '/users/999999')
      // Only the status: orders answers "user": null whatever the body says.
      .willRespondWith(404)
      .executeTest(async (server) => {
        await expect(
          withUsersClient(server.url, (client) => client.findUser(999_999)),
        ).resolves.toBeNull();
      });
  });

  it("reads users' liveness for its own readiness", async () => {
    await pact
      .addInteraction()
      .uponReceiving('a liveness probe')
      .withRequest('GET', '/health/live')
      .willRespondWith(200)
      .executeTest(async (server) => {
        await expect(
          withUsersClient(server.url, (_client, app) =>
            app.get(UsersReadiness).probe(),
          ),
        ).resolves.toEqual({ reachable: true });
      });
  });
});
