import type { Page, PageRequest } from '@app/contracts';
import {
  Database,
  GroupedInserts,
  isUniqueViolation,
  nextIds,
} from '@app/storage';
import { Injectable } from '@nestjs/common';
import { Kysely, sql, type Selectable } from 'kysely';
import type { UsersDatabase, UsersTable } from './users.schema';
import {
  EmailTakenError,
  NewUser,
  User,
  UserChanges,
  UsersRepository,
} from './users.repository';

const COLUMNS = ['id', 'name', 'email', 'version'] as const;

const toUser = (row: Selectable<UsersTable>): User => ({
  id: Number(row.id),
  name: row.name,
  email: row.email,
  version: row.version,
});

/**
 * Writes `users` in one statement, with ids from the counter in their order (one each, gapless):
 * what `GroupedInserts` writes a group of concurrent creates with.
 */
async function insertUsers(
  db: Kysely<UsersDatabase>,
  users: NewUser[],
): Promise<Selectable<UsersTable>[]> {
  const rows = await db
    .with(
      'input',
      () =>
        sql<{ name: string; email: string; n: string }>`(select * from unnest(
          ${users.map((user) => user.name)}::text[],
          ${users.map((user) => user.email)}::text[]
        ) with ordinality as input(name, email, n))`,
    )
    .with('next_ids', (db) => nextIds(db, 'users', users.length))
    .insertInto('users')
    .columns(['id', 'name', 'email'])
    .expression((eb) =>
      eb
        .selectFrom(['input', 'next_ids'])
        .select([
          sql<string>`next_ids.last_id - ${users.length} + input.n`.as('id'),
          'input.name',
          'input.email',
        ]),
    )
    .returning(COLUMNS)
    .execute();
  // Ids follow the order of the input: sorted by id, the rows are the users' in order.
  return rows.sort((a, b) => Number(a.id) - Number(b.id));
}

/** Users in this service's PostgreSQL database, shared by every replica. */
@Injectable()
export class PostgresUsersRepository implements UsersRepository {
  private readonly creates: GroupedInserts<
    UsersDatabase,
    NewUser,
    Selectable<UsersTable>
  >;

  constructor(private readonly database: Database<UsersDatabase>) {
    this.creates = new GroupedInserts(database, insertUsers);
  }

  async create(user: NewUser): Promise<User> {
    const row = await this.write(user.email, () =>
      this.creates.add({ name: user.name, email: user.email }),
    );
    return toUser(row);
  }

  async findById(id: number): Promise<User | undefined> {
    const row = await this.database.run((db) =>
      db
        .selectFrom('users')
        .select(COLUMNS)
        .where('id', '=', String(id))
        .executeTakeFirst(),
    );
    return row && toUser(row);
  }

  async list({ limit, offset }: PageRequest): Promise<Page<User>> {
    const [rows, count] = await this.database.run((db) =>
      Promise.all([
        db
          .selectFrom('users')
          .select(COLUMNS)
          .orderBy('id')
          .limit(limit)
          .offset(offset)
          .execute(),
        db
          .selectFrom('users')
          .select((eb) => eb.fn.countAll<string>().as('total'))
          .executeTakeFirstOrThrow(),
      ]),
    );
    return { items: rows.map(toUser), total: Number(count.total) };
  }

  // One statement, conditional on the version: of two replicas changing one version, the second
  // finds no row at that version (the first holds the row's lock, then has moved it on).
  async update(
    id: number,
    changes: UserChanges,
    version: number,
  ): Promise<User | undefined> {
    const row = await this.write(changes.email ?? '', () =>
      this.database.run((db) =>
        db
          .updateTable('users')
          .set({ ...changes, version: sql<number>`version + 1` })
          .where('id', '=', String(id))
          .where('version', '=', version)
          .returning(COLUMNS)
          .executeTakeFirst(),
      ),
    );
    return row && toUser(row);
  }

  // A delete, not a flag: the name and email leave the table with the row.
  async erase(id: number, version?: number): Promise<boolean> {
    const deleted = await this.database.run((db) => {
      let matching = db.deleteFrom('users').where('id', '=', String(id));
      if (version !== undefined)
        matching = matching.where('version', '=', version);
      return matching.executeTakeFirst();
    });
    return deleted.numDeletedRows > 0n;
  }

  private async write<T>(email: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (isUniqueViolation(error, 'users_email_lower_key'))
        throw new EmailTakenError(email);
      throw error;
    }
  }
}
