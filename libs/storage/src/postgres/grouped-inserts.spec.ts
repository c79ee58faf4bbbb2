import {
  migratedTestDatabase,
  MigratedTestDatabase,
  queryTestDatabase,
  testDatabaseClient,
} from '@app/testing';
import { Kysely, sql, type Selectable } from 'kysely';
import type { Database } from './database';
import { isUniqueViolation, StoreUnavailableError } from './errors';
import { GroupedInserts } from './grouped-inserts';
import { nextIds, type IdCountersTable } from './id-counters';

interface ThingsDatabase {
  things: { id: string; name: string };
  notes: { thing: string };
  id_counters: IdCountersTable;
}

const MIGRATIONS = {
  '0001-things': {
    // oxlint-disable-next-line typescript/no-explicit-any -- migrations take Kysely<any>, as Kysely advises
    async up(db: Kysely<any>) {
      await sql`create table things (id bigint primary key, name text not null unique)`.execute(
        db,
      );
      await sql`create table notes (thing text not null)`.execute(db);
      await sql`create table id_counters (name text primary key, last_id bigint not null)`.execute(
        db,
      );
      await sql`insert into id_counters values ('things', 0)`.execute(db);
    },
  },
};

type Thing = Selectable<ThingsDatabase['things']>;

/** The statements a group is written with, counted. */
function insertThings(calls: { count: number }) {
  return async (
    db: Kysely<ThingsDatabase>,
    names: string[],
  ): Promise<Thing[]> => {
    calls.count++;
    const rows = await db
      .with(
        'input',
        () =>
          sql<{
            name: string;
            n: string;
          }>`(select * from unnest(${names}::text[]) with ordinality as input(name, n))`,
      )
      .with('next_ids', (db) => nextIds(db, 'things', names.length))
      .insertInto('things')
      .columns(['id', 'name'])
      .expression((eb) =>
        eb
          .selectFrom(['input', 'next_ids'])
          .select([
            sql<string>`next_ids.last_id - ${names.length} + input.n`.as('id'),
            'input.name',
          ]),
      )
      .returning(['id', 'name'])
      .execute();
    return rows.sort((a, b) => Number(a.id) - Number(b.id));
  };
}

const note = (db: Kysely<ThingsDatabase>, thing: string) =>
  db
    .insertInto('notes')
    .values({ thing })
    .execute()
    .then(() => undefined);

describe('GroupedInserts', () => {
  let created: MigratedTestDatabase<ThingsDatabase>;
  let database: Database<ThingsDatabase>;
  let calls: { count: number };
  let things: GroupedInserts<ThingsDatabase, string, Thing>;

  beforeEach(async () => {
    created = await migratedTestDatabase<ThingsDatabase>(MIGRATIONS);
    database = created.database;
    calls = { count: 0 };
    things = new GroupedInserts(database, insertThings(calls));
  });

  afterEach(() => created.close());

  const stored = () =>
    queryTestDatabase<{ id: string; name: string }>(
      created.url,
      'select id, name from things order by id',
    );
  const notes = () =>
    queryTestDatabase<{ thing: string }>(
      created.url,
      'select thing from notes order by thing',
    );

  it('writes concurrent creates in a few statements, with gapless ids in the order they came', async () => {
    const names = Array.from({ length: 30 }, (_, i) => `thing ${i}`);
    const rows = await Promise.all(names.map((name) => things.add(name)));
    expect(rows.map((row) => [Number(row.id), row.name])).toEqual(
      names.map((name, i) => [i + 1, name]),
    );
    // The first is written alone; the others wait for it and go together.
    expect(calls.count).toBeLessThanOrEqual(3);
  });

  it('writes each create of a refused group alone: the refused one fails and consumes no id', async () => {
    await things.add('taken');
    const results = await Promise.allSettled([
      things.add('first'),
      things.add('second'),
      things.add('taken'),
      things.add('third'),
    ]);
    expect(results.map((result) => result.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    const refused = results[2] as PromiseRejectedResult;
    expect(isUniqueViolation(refused.reason)).toBe(true);
    await expect(stored()).resolves.toEqual([
      { id: '1', name: 'taken' },
      { id: '2', name: 'first' },
      { id: '3', name: 'second' },
      { id: '4', name: 'third' },
    ]);
  });

  describe('in a unit of work', () => {
    it('commits the create with what finish writes', async () => {
      await database.unitOfWork(
        () => things.add('kept'),
        (db, row) => note(db, row.name),
      );
      await expect(stored()).resolves.toEqual([{ id: '1', name: 'kept' }]);
      await expect(notes()).resolves.toEqual([{ thing: 'kept' }]);
    });

    it('keeps nothing when the work fails after its create, and the id is not consumed', async () => {
      await expect(
        database.unitOfWork(
          async () => {
            await things.add('lost');
            throw new Error('the handler failed');
          },
          (db) => note(db, 'never'),
        ),
      ).rejects.toThrow('the handler failed');
      await expect(stored()).resolves.toEqual([]);
      await expect(things.add('next')).resolves.toEqual({
        id: '1',
        name: 'next',
      });
    });

    it('keeps nothing when finish fails (the answer cannot be stored)', async () => {
      await expect(
        database.unitOfWork(
          () => things.add('lost'),
          async () => {
            throw new Error('claim lost');
          },
        ),
      ).rejects.toThrow('claim lost');
      await expect(stored()).resolves.toEqual([]);
    });

    it('commits a group once every unit in it finished', async () => {
      // Written at once; the others wait for it and go together.
      const blocker = things.add('blocker');
      const [a, b, plain] = await Promise.all([
        database.unitOfWork(
          () => things.add('a'),
          (db, row) => note(db, row.name),
        ),
        database.unitOfWork(
          () => things.add('b'),
          (db, row) => note(db, row.name),
        ),
        things.add('plain'),
      ]);
      await blocker;
      expect([a.id, b.id, plain.id]).toEqual(['2', '3', '4']);
      expect(calls.count).toBe(2);
      await expect(notes()).resolves.toEqual([{ thing: 'a' }, { thing: 'b' }]);
    });

    it('rolls a group back when one unit fails: the others are told, the creates outside units go again', async () => {
      await things.add('before');
      // Written at once; the others wait for it and go together.
      const blocker = things.add('blocker');
      const results = await Promise.allSettled([
        database.unitOfWork(
          () => things.add('a'),
          (db, row) => note(db, row.name),
        ),
        database.unitOfWork(
          async () => {
            await things.add('b');
            throw new Error('b failed');
          },
          (db) => note(db, 'b'),
        ),
        things.add('plain'),
      ]);
      await blocker;
      const [a, b, plain] = results;
      expect(a.status === 'rejected' && a.reason).toBeInstanceOf(
        StoreUnavailableError,
      );
      expect(b.status === 'rejected' && (b.reason as Error).message).toBe(
        'b failed',
      );
      expect(plain).toEqual({
        status: 'fulfilled',
        value: { id: '3', name: 'plain' },
      });
      await expect(stored()).resolves.toEqual([
        { id: '1', name: 'before' },
        { id: '2', name: 'blocker' },
        { id: '3', name: 'plain' },
      ]);
      await expect(notes()).resolves.toEqual([]);
    });

    it('rolls back a group whose units do not finish in time', async () => {
      const impatient = testDatabaseClient<ThingsDatabase>(
        created.url,
        MIGRATIONS,
        { DATABASE_STATEMENT_TIMEOUT_MS: 200 },
      );
      try {
        const slow = new GroupedInserts(impatient, insertThings(calls));
        await expect(
          impatient.unitOfWork(
            async () => {
              const row = await slow.add('slow');
              await new Promise((resolve) => setTimeout(resolve, 600));
              return row;
            },
            (db, row) => note(db, row.name),
          ),
        ).rejects.toBeInstanceOf(StoreUnavailableError);
        await expect(stored()).resolves.toEqual([]);
      } finally {
        await impatient.close();
      }
    });
  });
});
