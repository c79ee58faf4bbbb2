import { INestApplication } from '@nestjs/common';
import { MatchersV3, PactV4 } from '@pact-foundation/pact';
import { createTestApp, PACT_DIR, pactFile, testConfig } from '@app/testing';
import { rmSync } from 'node:fs';
import { OrdersAppModule } from '../src/app.module';
import { OrdersConfig } from '../src/orders.config';
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
    use: (client: UsersClient) => Promise<T>,
  ): Promise<T> {
    const app: INestApplication = await createTestApp(
      OrdersAppModule.forRoot(
        testConfig(OrdersConfig, { USERS_SERVICE_URL: url }),
      ),
    );
    try {
      return await use(app.get(UsersClient));
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
          withUsersClient(server.url, (client) => client.probe()),
        ).resolves.toEqual({ reachable: true });
      });
  });
});
