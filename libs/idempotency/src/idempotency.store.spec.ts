import {
  fakeIntervalsOnly,
  migratedTestDatabase,
  MigratedTestDatabase,
  recordLogs,
} from '@app/testing';
import {
  idempotencyKeysMigration,
  type IdempotencyDatabase,
} from './idempotency.migration';
import { IdempotencySettings } from './idempotency.settings';
import { ClaimLostError, IdempotencyStore } from './idempotency.store';
import { InMemoryIdempotencyStore } from './in-memory-idempotency.store';
import { PostgresIdempotencyStore } from './postgres-idempotency.store';

interface Fixture {
  store: IdempotencyStore;
  close(): Promise<void>;
}

type Open = (
  settings: Partial<IdempotencySettings>,
  now: () => number,
) => Promise<Fixture>;

const config = (settings: Partial<IdempotencySettings>) =>
  Object.assign(new IdempotencySettings(), settings);

const openPostgres = async (
  settings: Partial<IdempotencySettings>,
  now: () => number,
): Promise<
  Fixture & {
    another(): PostgresIdempotencyStore;
    database: MigratedTestDatabase<IdempotencyDatabase>['database'];
  }
> => {
  const db: MigratedTestDatabase<IdempotencyDatabase> =
    await migratedTestDatabase<IdempotencyDatabase>({
      '0001-idempotency-keys': idempotencyKeysMigration,
    });
  const created: PostgresIdempotencyStore[] = [];
  const make = () => {
    const store = new PostgresIdempotencyStore(
      db.database,
      config(settings),
      now,
    );
    created.push(store);
    return store;
  };
  const store = make();
  return {
    store,
    another: make,
    database: db.database,
    close: async () => {
      for (const each of created) each.onModuleDestroy();
      await db.close();
    },
  };
};

const stores: [string, Open][] = [
  [
    'InMemoryIdempotencyStore',
    async (settings, now) => ({
      store: new InMemoryIdempotencyStore(config(settings), now),
      close: async () => undefined,
    }),
  ],
  ['PostgresIdempotencyStore', openPostgres],
];

describe.each(stores)('%s', (_name, open) => {
  let now: number;
  let fixture: Fixture | undefined;
  const store = async (ttlMs = 1000, maxKeys = 3) => {
    fixture = await open(
      { IDEMPOTENCY_TTL_MS: ttlMs, IDEMPOTENCY_MAX_KEYS: maxKeys },
      () => now,
    );
    return fixture.store;
  };
  const entryOf = async (claim: Promise<unknown>) =>
    ((await claim) as { entry: object }).entry;

  beforeEach(() => {
    now = 1_000_000;
  });

  afterEach(async () => {
    await fixture?.close();
    fixture = undefined;
  });

  it('lets the first claim of a key go ahead and replays it once completed', async () => {
    const s = await store();
    const claim = await s.claim('k', 'f');
    expect(claim.kind).toBe('new');
    await expect(s.claim('k', 'f')).resolves.toEqual({ kind: 'in-progress' });
    await s.complete('k', (claim as { entry: object }).entry, 201, { id: 1 });
    await expect(s.claim('k', 'f')).resolves.toEqual({
      kind: 'replay',
      status: 201,
      body: { id: 1 },
    });
  });

  it('of concurrent claims of one key, lets exactly one go ahead', async () => {
    const s = await store();
    const claims = await Promise.all(
      Array.from({ length: 8 }, () => s.claim('k', 'f')),
    );
    expect(claims.filter((claim) => claim.kind === 'new')).toHaveLength(1);
  });

  it('refuses the key for another request, running or done', async () => {
    const s = await store();
    const entry = await entryOf(s.claim('k', 'f'));
    await expect(s.claim('k', 'other')).resolves.toEqual({ kind: 'mismatch' });
    await s.complete('k', entry, 201, {});
    await expect(s.claim('k', 'other')).resolves.toEqual({ kind: 'mismatch' });
  });

  it('runs the first request of a key and replays its answer', async () => {
    const s = await store();
    const entry = await entryOf(s.claim('k', 'f'));
    await expect(
      s.runFirst('k', entry, 201, async () => ({ id: 4 })),
    ).resolves.toEqual({ id: 4 });
    await expect(s.claim('k', 'f')).resolves.toEqual({
      kind: 'replay',
      status: 201,
      body: { id: 4 },
    });
  });

  it('frees the key of a first request that fails', async () => {
    const s = await store();
    const entry = await entryOf(s.claim('k', 'f'));
    await expect(
      s.runFirst('k', entry, 201, async () => {
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    await expect(s.claim('k', 'f')).resolves.toMatchObject({ kind: 'new' });
  });

  it('frees a released key for another try', async () => {
    const s = await store();
    await s.release('k', await entryOf(s.claim('k', 'f')));
    await expect(s.claim('k', 'other')).resolves.toMatchObject({
      kind: 'new',
    });
  });

  it('leaves a newer claim alone when an expired claim is released late', async () => {
    const s = await store(1000);
    const expired = await entryOf(s.claim('k', 'f'));
    now += 1000;
    await expect(s.claim('k', 'f')).resolves.toMatchObject({ kind: 'new' });
    await s.release('k', expired);
    await expect(s.claim('k', 'f')).resolves.toEqual({ kind: 'in-progress' });
  });

  it('forgets the answers that name an erased record, and only those', async () => {
    const s = await store(10_000, 10);
    for (const [key, id] of [
      ['a', 3],
      ['b', 4],
      ['c', 3],
    ] as const)
      await s.complete(key, await entryOf(s.claim(key, key)), 201, {
        user_id: id,
      });
    await s.forgetAnswers({ user_id: 3 });
    await expect(s.claim('a', 'a')).resolves.toMatchObject({ kind: 'new' });
    await expect(s.claim('c', 'c')).resolves.toMatchObject({ kind: 'new' });
    await expect(s.claim('b', 'b')).resolves.toEqual({
      kind: 'replay',
      status: 201,
      body: { user_id: 4 },
    });
  });

  it('forgets only the answers that hold every field given', async () => {
    const s = await store(10_000, 10);
    await s.complete('a', await entryOf(s.claim('a', 'a')), 201, {
      order_id: 7,
      user_id: 3,
    });
    await s.forgetAnswers({ order_id: 8, user_id: 3 });
    await expect(s.claim('a', 'a')).resolves.toMatchObject({ kind: 'replay' });
    await s.forgetAnswers({ order_id: 7, user_id: 3 });
    await expect(s.claim('a', 'a')).resolves.toMatchObject({ kind: 'new' });
  });

  it('forgets keys after the TTL', async () => {
    const s = await store(1000);
    await s.complete('k', await entryOf(s.claim('k', 'f')), 201, {});
    now += 999;
    await expect(s.claim('k', 'f')).resolves.toMatchObject({
      kind: 'replay',
    });
    now += 1;
    await expect(s.claim('k', 'f')).resolves.toMatchObject({ kind: 'new' });
  });

  it('evicts the oldest keys beyond the bound', async () => {
    const s = await store(10_000, 2);
    for (const key of ['a', 'b', 'c']) {
      now += 1;
      await s.complete(key, await entryOf(s.claim(key, 'f')), 201, key);
    }
    await s.purge();
    await expect(s.claim('a', 'f')).resolves.toMatchObject({ kind: 'new' });
    await expect(s.claim('c', 'f')).resolves.toEqual({
      kind: 'replay',
      status: 201,
      body: 'c',
    });
  });

  it('ignores the completion of a claim evicted meanwhile', async () => {
    const s = await store(10_000, 1);
    const first = await entryOf(s.claim('a', 'f'));
    now += 1;
    await s.claim('b', 'f');
    await s.purge();
    await s.complete('a', first, 201, 'late');
    await expect(s.claim('a', 'f')).resolves.toMatchObject({ kind: 'new' });
  });
});

describe('PostgresIdempotencyStore, across replicas', () => {
  let now: number;
  let fixture: Awaited<ReturnType<typeof openPostgres>>;

  beforeEach(async () => {
    now = 1_000_000;
    fixture = await openPostgres(
      { IDEMPOTENCY_TTL_MS: 60_000, IDEMPOTENCY_LEASE_MS: 5000 },
      () => now,
    );
  });

  afterEach(() => fixture.close());

  /** The key's row as it stands, or undefined. */
  const row = (key: string) =>
    fixture.database.run((db) =>
      db
        .selectFrom('idempotency_keys')
        .select(['claim', 'status'])
        .where('key', '=', key)
        .executeTakeFirst(),
    );

  describe('its purge, every minute', () => {
    let logs: ReturnType<typeof recordLogs>;
    beforeEach(() => {
      logs = recordLogs();
      fakeIntervalsOnly();
    });
    afterEach(() => {
      jest.useRealTimers();
      logs.stop();
    });

    it('forgets expired keys on its own once the database is ready, and not before', async () => {
      const store = fixture.another();
      const purge = jest.spyOn(store, 'purge');
      const { entry } = (await store.claim('old', 'f')) as { entry: object };
      await store.complete('old', entry, 201, { id: 1 });
      now += 60_000;
      jest.advanceTimersByTime(60_000);
      expect(purge).not.toHaveBeenCalled();
      await fixture.database.start();
      jest.advanceTimersByTime(60_000);
      expect(purge).toHaveBeenCalledTimes(1);
      await purge.mock.results[0].value;
      await expect(row('old')).resolves.toBeUndefined();
    });

    it('warns when a purge fails, and stops purging when the module is destroyed', async () => {
      await fixture.database.start();
      const store = fixture.another();
      const purge = jest
        .spyOn(store, 'purge')
        .mockRejectedValueOnce(new Error('connection lost'));
      jest.advanceTimersByTime(60_000);
      await purge.mock.results[0].value.catch(() => undefined);
      await new Promise((resolve) => setImmediate(resolve));
      expect(logs.warn).toEqual([
        [
          'Purging idempotency keys failed: connection lost',
          'PostgresIdempotencyStore',
        ],
      ]);
      store.onModuleDestroy();
      jest.advanceTimersByTime(120_000);
      expect(purge).toHaveBeenCalledTimes(1);
    });
  });

  describe('a key released between the two statements of a claim', () => {
    /** The claim of whoever takes the key again during a race. */
    const HOLDER = '00000000-0000-4000-8000-000000000001';
    afterEach(() => jest.restoreAllMocks());

    /**
     * After each insert that finds the key held, the holder lets go of it before the claim reads
     * it; `holdAgain` takes it again before the claim's next insert, as often as it says.
     */
    function raceClaims(holdAgain: number) {
      const run = fixture.database.run.bind(fixture.database);
      let held = 0;
      const race = { inserts: 0 };
      const release = () =>
        run((db) =>
          db.deleteFrom('idempotency_keys').where('key', '=', 'k').execute(),
        );
      jest.spyOn(fixture.database, 'run').mockImplementation(async (query) => {
        const result = await run(query);
        if (Array.isArray(result)) race.inserts++;
        if (Array.isArray(result) && result.length === 0) await release();
        else if (result === undefined && held++ < holdAgain)
          await run((db) =>
            db
              .insertInto('idempotency_keys')
              .values({
                key: 'k',
                fingerprint: 'f',
                claim: HOLDER,
                created_at: now,
                expires_at: now + 60_000,
                lease_until: now + 5000,
              })
              .execute(),
          );
        return result;
      });
      return race;
    }

    it('claims it on the next try', async () => {
      await fixture.another().claim('k', 'f');
      const race = raceClaims(0);
      await expect(fixture.store.claim('k', 'f')).resolves.toMatchObject({
        kind: 'new',
      });
      expect(race.inserts).toBe(2);
    });

    it('answers in progress after three such races', async () => {
      await fixture.another().claim('k', 'f');
      const race = raceClaims(10);
      await expect(fixture.store.claim('k', 'f')).resolves.toEqual({
        kind: 'in-progress',
      });
      expect(race.inserts).toBe(3);
      jest.restoreAllMocks();
      // The third race's holder is the one left holding it.
      await expect(row('k')).resolves.toEqual({
        claim: HOLDER,
        status: null,
      });
    });
  });

  it('replays on one replica what another answered', async () => {
    const entry = (await fixture.store.claim('k', 'f')) as { entry: object };
    await expect(fixture.another().claim('k', 'f')).resolves.toEqual({
      kind: 'in-progress',
    });
    await fixture.store.complete('k', entry.entry, 201, { id: 7 });
    await expect(fixture.another().claim('k', 'f')).resolves.toEqual({
      kind: 'replay',
      status: 201,
      body: { id: 7 },
    });
  });

  /** A record the request writes: here, a row of the same table under another key. */
  const writeRecord = (name: string) =>
    fixture.database.run((db) =>
      db
        .insertInto('idempotency_keys')
        .values({
          key: name,
          fingerprint: 'record',
          claim: '00000000-0000-0000-0000-000000000000',
          created_at: now,
          expires_at: now + 60_000,
        })
        .execute(),
    );
  const recordExists = (name: string) =>
    fixture.database
      .run((db) =>
        db
          .selectFrom('idempotency_keys')
          .select('key')
          .where('key', '=', name)
          .execute(),
      )
      .then((rows) => rows.length === 1);

  it('stores the answer in the same transaction as what the request wrote', async () => {
    const { entry } = (await fixture.store.claim('k', 'f')) as {
      entry: object;
    };
    await fixture.store.runFirst('k', entry, 201, async () => {
      await writeRecord('record');
      return { id: 1 };
    });
    await expect(recordExists('record')).resolves.toBe(true);
    await expect(fixture.another().claim('k', 'f')).resolves.toEqual({
      kind: 'replay',
      status: 201,
      body: { id: 1 },
    });
  });

  it('keeps nothing of a run whose key was taken over meanwhile, and leaves the new holder alone', async () => {
    const { entry: stalled } = (await fixture.store.claim('k', 'f')) as {
      entry: object;
    };
    now += 5000;
    const other = fixture.another();
    const taken = (await other.claim('k', 'f')) as { entry: object };
    await expect(
      fixture.store.runFirst('k', stalled, 201, async () => {
        await writeRecord('record of the stalled run');
        return { id: 1 };
      }),
    ).rejects.toBeInstanceOf(ClaimLostError);
    await expect(recordExists('record of the stalled run')).resolves.toBe(
      false,
    );
    await other.runFirst('k', taken.entry, 201, async () => ({ id: 2 }));
    await expect(fixture.store.claim('k', 'f')).resolves.toEqual({
      kind: 'replay',
      status: 201,
      body: { id: 2 },
    });
  });

  it('keeps nothing of a run that fails after it wrote, and frees the key', async () => {
    const { entry } = (await fixture.store.claim('k', 'f')) as {
      entry: object;
    };
    await expect(
      fixture.store.runFirst('k', entry, 201, async () => {
        await writeRecord('record');
        throw new Error('refused after the write');
      }),
    ).rejects.toThrow('refused after the write');
    await expect(recordExists('record')).resolves.toBe(false);
    await expect(fixture.another().claim('k', 'f')).resolves.toMatchObject({
      kind: 'new',
    });
  });

  it('does not free a key whose answer was stored, whatever its run reports', async () => {
    const { entry } = (await fixture.store.claim('k', 'f')) as {
      entry: object;
    };
    await fixture.store.complete('k', entry, 201, { id: 3 });
    await fixture.store.release('k', entry);
    await expect(fixture.another().claim('k', 'f')).resolves.toEqual({
      kind: 'replay',
      status: 201,
      body: { id: 3 },
    });
  });

  it('lets the same request take over a key whose replica died, once its lease lapsed', async () => {
    const dead = (await fixture.store.claim('k', 'f')) as { entry: object };
    const other = fixture.another();
    now += 4999;
    await expect(other.claim('k', 'f')).resolves.toEqual({
      kind: 'in-progress',
    });
    now += 1;
    await expect(other.claim('k', 'other')).resolves.toEqual({
      kind: 'mismatch',
    });
    const taken = (await other.claim('k', 'f')) as {
      kind: string;
      entry: object;
    };
    expect(taken.kind).toBe('new');
    // The dead replica's late answer no longer counts; the new holder's does.
    await fixture.store.complete('k', dead.entry, 201, 'stale');
    await fixture.store.release('k', dead.entry);
    await other.complete('k', taken.entry, 201, 'fresh');
    await expect(fixture.store.claim('k', 'f')).resolves.toEqual({
      kind: 'replay',
      status: 201,
      body: 'fresh',
    });
  });
});
