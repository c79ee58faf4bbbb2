import { IdentityProvider, startTestApp, testConfig } from '@app/testing';
import { INestApplication } from '@nestjs/common';
import newman, { NewmanRunSummary } from 'newman';
import { join } from 'node:path';
import { service as ordersService } from '../apps/orders/src/app.module';
import { OrdersConfig } from '../apps/orders/src/orders.config';
import { service as usersService } from '../apps/users/src/app.module';
import { UsersConfig } from '../apps/users/src/users.config';

const COLLECTION = join(
  __dirname,
  '..',
  'postman',
  'users-orders.postman_collection.json',
);

async function runCollection(
  usersUrl: string,
  ordersUrl: string,
  bearerToken = '',
): Promise<NewmanRunSummary> {
  return new Promise<NewmanRunSummary>((resolve, reject) =>
    newman.run(
      {
        collection: COLLECTION,
        envVar: [
          { key: 'users_url', value: usersUrl },
          { key: 'orders_url', value: ordersUrl },
          { key: 'bearerToken', value: bearerToken },
        ],
        reporters: [],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    ),
  );
}

function expectAllPassed(summary: NewmanRunSummary): void {
  const { requests, assertions } = summary.run.stats;
  expect(
    summary.run.failures.map((f) => `${f.source?.name}: ${f.error.message}`),
  ).toEqual([]);
  expect(requests).toMatchObject({ total: 13, failed: 0 });
  expect(assertions).toMatchObject({ total: 13, failed: 0 });
}

/** The Postman collection, run by newman against both apps, so that it cannot rot. */
describe('the Postman collection', () => {
  let users: INestApplication;
  let orders: INestApplication;
  let usersUrl: string;
  let ordersUrl: string;

  beforeAll(async () => {
    ({ app: users, url: usersUrl } = await startTestApp(
      usersService.module(testConfig(UsersConfig)),
    ));
    ({ app: orders, url: ordersUrl } = await startTestApp(
      ordersService.module(
        testConfig(OrdersConfig, { USERS_SERVICE_URL: usersUrl }),
      ),
    ));
  });

  afterAll(async () => {
    await orders?.close();
    await users?.close();
  });

  it('passes every one of its tests against freshly started apps', async () => {
    expectAllPassed(await runCollection(usersUrl, ordersUrl));
  });
});

describe('the Postman collection, with authentication on', () => {
  let idp: IdentityProvider;
  let users: INestApplication;
  let orders: INestApplication;
  let usersUrl: string;
  let ordersUrl: string;

  beforeAll(async () => {
    idp = await IdentityProvider.start();
    ({ app: users, url: usersUrl } = await startTestApp(
      usersService.module(
        testConfig(UsersConfig, {
          AUTH_ISSUER: idp.issuer,
          AUTH_AUDIENCE: 'users',
        }),
      ),
    ));
    ({ app: orders, url: ordersUrl } = await startTestApp(
      ordersService.module(
        testConfig(OrdersConfig, {
          USERS_SERVICE_URL: usersUrl,
          AUTH_ISSUER: idp.issuer,
          AUTH_AUDIENCE: 'orders',
          ...idp.usersServiceIdentity(),
        }),
      ),
    ));
  });

  afterAll(async () => {
    await orders?.close();
    await users?.close();
    await idp?.close();
  });

  it('passes with the collection bearer token set, and fails without it', async () => {
    const token = await idp.token({
      aud: ['users', 'orders'],
      scope:
        'users:read users:list users:write users:delete orders:read orders:write',
    });
    expectAllPassed(await runCollection(usersUrl, ordersUrl, token));
    const refused = await runCollection(usersUrl, ordersUrl);
    expect(refused.run.failures.length).toBeGreaterThan(0);
  });
});
