import {
  BuiltApp,
  createTestDatabase,
  eventually,
  freePort,
  queryTestDatabase,
  startBuiltApp,
  startPostgresWireTap,
  TestDatabase,
  waitUntilReady,
  type WireTap,
  type WireTrigger,
} from '@app/testing';

// A replica is killed with SIGKILL at a chosen point of a keyed create's conversation with
// PostgreSQL (a proxy that reads the protocol holds the message back and kills it there); the
// same request is then sent to another replica, after the key's lease. Whatever the point, one
// record per key, and the answer replayed is the one stored with it.

const LEASE_MS = 1000;

const keyedPost = (url: string, body: object, key: string) =>
  fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
    body: JSON.stringify(body),
  });

/** The same request on `url` until the dead replica's lease has lapsed (409 until then). */
const retried = (url: string, body: object, key: string) =>
  eventually(
    () => keyedPost(url, body, key),
    (response) => response.status !== 409,
    `the key ${key} to be free of its dead replica's lease`,
    { limitMs: 20_000, everyMs: 100 },
  );

const sentBy =
  (pattern: RegExp): WireTrigger =>
  (message) =>
    message.from === 'client' && pattern.test(message.text);
/** The server's CommandComplete for the last statement, which matched `pattern`. */
const completed =
  (tag: RegExp, pattern: RegExp): WireTrigger =>
  (message, connection) =>
    message.from === 'server' &&
    message.type === 'C' &&
    tag.test(message.text) &&
    connection.statements.some((statement) => pattern.test(statement));

const INSERT_USERS = /insert into "users"/;
const STORE_ANSWER = /update "idempotency_keys" set "status"/;

/** A replica whose database connections go through the tap. */
async function tappedReplica(
  app: 'users' | 'orders',
  tap: WireTap,
  database: TestDatabase,
  env: Record<string, string> = {},
): Promise<BuiltApp> {
  const url = new URL(database.url);
  url.port = String(tap.port);
  const port = await freePort();
  const replica = await startBuiltApp(app, port, {
    [app === 'users' ? 'USERS_PORT' : 'ORDERS_PORT']: String(port),
    DATABASE_URL: url.toString(),
    IDEMPOTENCY_LEASE_MS: String(LEASE_MS),
    ...env,
  });
  await waitUntilReady(replica.url);
  return replica;
}

async function directReplica(
  app: 'users' | 'orders',
  database: TestDatabase,
  env: Record<string, string> = {},
): Promise<BuiltApp> {
  const port = await freePort();
  const replica = await startBuiltApp(app, port, {
    [app === 'users' ? 'USERS_PORT' : 'ORDERS_PORT']: String(port),
    DATABASE_URL: database.url,
    ...env,
  });
  await waitUntilReady(replica.url);
  return replica;
}

function tapTo(database: TestDatabase): Promise<WireTap> {
  const { hostname, port } = new URL(database.url);
  return startPostgresWireTap({ host: hostname, port: Number(port) });
}

describe('a keyed POST /users whose replica is killed (PostgreSQL)', () => {
  let database: TestDatabase;
  let tap: WireTap;
  let survivor: BuiltApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    tap = await tapTo(database);
    survivor = await directReplica('users', database);
  });

  afterAll(async () => {
    await survivor?.stop();
    await tap?.close();
    await database?.drop();
  });

  it.each<[string, WireTrigger, boolean]>([
    ['before the insert', sentBy(INSERT_USERS), false],
    ['after the insert', completed(/^INSERT/, INSERT_USERS), false],
    ['before the answer is stored', sentBy(STORE_ANSWER), false],
    ['after the commit', completed(/^COMMIT$/, STORE_ANSWER), true],
  ])(
    'killed %s: one user for the key, created once, and the answer stored with it replayed',
    async (point, trigger, answerStored) => {
      const doomed = await tappedReplica('users', tap, database);
      const key = `killed ${point}`;
      const email = `${point.replace(/\W+/g, '-')}@example.com`;
      const request = { name: 'Kim', email };

      const killed = tap.holdAt(trigger, () => doomed.process.kill('SIGKILL'));
      const first = await keyedPost(`${doomed.url}/users`, request, key).then(
        (response) => response.status,
        () => 'no answer',
      );
      await killed;
      await doomed.exited;
      expect(first).toBe('no answer');
      expect(doomed.process.signalCode).toBe('SIGKILL');

      const retry = await retried(`${survivor.url}/users`, request, key);
      expect(retry.status).toBe(201);
      // After the commit, the dead replica's answer was stored: the retry is its replay.
      expect(retry.headers.get('idempotent-replayed')).toBe(
        answerStored ? 'true' : null,
      );
      const answer = (await retry.json()) as { user_id: number };
      const replay = await keyedPost(`${survivor.url}/users`, request, key);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      await expect(replay.json()).resolves.toEqual(answer);

      await expect(
        queryTestDatabase(
          database.url,
          'select id from users where email = $1',
          [email],
        ),
      ).resolves.toEqual([{ id: String(answer.user_id) }]);
    },
  );
});

describe('keyed POST /orders in flight on a replica that is killed (PostgreSQL)', () => {
  let database: TestDatabase;
  let tap: WireTap;
  let users: BuiltApp;
  let survivor: BuiltApp;
  let doomed: BuiltApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    tap = await tapTo(database);
    const usersPort = await freePort();
    users = await startBuiltApp('users', usersPort, {
      USERS_PORT: String(usersPort),
    });
    const env = { USERS_SERVICE_URL: users.url };
    survivor = await directReplica('orders', database, env);
    doomed = await tappedReplica('orders', tap, database, env);
  });

  afterAll(async () => {
    await Promise.all([survivor?.stop(), doomed?.stop(), users?.stop()]);
    await tap?.close();
    await database?.drop();
  });

  it('leaves one order per key, and every answer the dead replica gave is the one replayed', async () => {
    const KEYS = 60;
    const requests = Array.from({ length: KEYS }, (_, i) => ({
      key: `storm-${i}`,
      body: { user_id: (i % 2) + 1, product: `Storm ${i}` },
    }));
    // Killed once a few groups of creates have been written: some answered, some committed and
    // not answered, some written and not committed, some not begun.
    let inserts = 0;
    const killed = tap.holdAt(
      (message, connection) =>
        completed(/^INSERT/, /insert into "orders"/)(message, connection) &&
        ++inserts === 3,
      () => doomed.process.kill('SIGKILL'),
    );
    const firstAnswers = new Map<string, unknown>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < requests.length) {
          const { key, body } = requests[next++];
          const response = await keyedPost(`${doomed.url}/orders`, body, key)
            .then(async (r) => (r.status === 201 ? r.json() : undefined))
            .catch(() => undefined);
          if (response !== undefined) firstAnswers.set(key, response);
        }
      }),
    );
    await killed;
    await doomed.exited;
    expect(firstAnswers.size).toBeGreaterThan(0);
    expect(firstAnswers.size).toBeLessThan(KEYS);

    for (const { key, body } of requests) {
      const retry = await retried(`${survivor.url}/orders`, body, key);
      expect(retry.status).toBe(201);
      const answer = await retry.json();
      if (firstAnswers.has(key)) expect(answer).toEqual(firstAnswers.get(key));
      const rows = await queryTestDatabase<{ id: string }>(
        database.url,
        'select id from orders where product = $1',
        [body.product],
      );
      expect(rows).toEqual([
        { id: String((answer as { order_id: number }).order_id) },
      ]);
    }
  });
});
