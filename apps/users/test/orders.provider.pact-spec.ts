import { INestApplication } from '@nestjs/common';
import { Verifier } from '@pact-foundation/pact';
import { pactFile, startTestApp, testConfig } from '@app/testing';
import { existsSync } from 'node:fs';
import { service } from '../src/app.module';
import { UsersConfig } from '../src/users.config';
import type { UsersRepository } from '../src/users/users.repository';
import { USERS_REPOSITORY } from '../src/users/users.repository';

const PACT = pactFile('orders', 'users');

/**
 * Replays what orders relies on (the pact its consumer tests wrote) against the real users app,
 * each provider state set up through the repository, as its own data, not the seed rows.
 */
describe('users, as the provider orders relies on (Pact)', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    if (!existsSync(PACT))
      throw new Error(
        `No pact at ${PACT}: run orders' consumer tests first (npm run test:pact runs both, in order)`,
      );
    ({ app, url } = await startTestApp(
      service.module(testConfig(UsersConfig)),
    ));
  });

  afterAll(async () => {
    await app.close();
  });

  it("answers every interaction in orders' pact", async () => {
    const users = app.get<UsersRepository>(USERS_REPOSITORY);
    await new Verifier({
      provider: 'users',
      providerBaseUrl: url,
      pactUrls: [PACT],
      logLevel: 'warn',
      stateHandlers: {
        'a user exists': async (params) => {
          const { name, email } = params as { name: string; email: string };
          const user = await users.create({ name, email });
          // Injected into the request path: /users/${id}.
          return { id: user.id };
        },
        "orders holds the current ETag of a user's copy": async (params) => {
          const { name, email } = params as { name: string; email: string };
          const user = await users.create({ name, email });
          const etag = (await fetch(`${url}/users/${user.id}`)).headers.get(
            'etag',
          );
          return { id: user.id, etag };
        },
        'a user was erased': async (params) => {
          const { name, email } = params as { name: string; email: string };
          const user = await users.create({ name, email });
          await users.erase(user.id);
          return { id: user.id };
        },
        'no user has the id': async (params) => {
          const { id } = params as { id: number };
          if (await users.findById(id))
            throw new Error(`State "no user has the id": user ${id} exists`);
        },
      },
    }).verifyProvider();
  });
});
