import type { Page, PageRequest } from '@app/contracts';
import { Database, isUniqueViolation, nextId } from '@app/storage';
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

/** Users in this service's PostgreSQL database, shared by every replica. */
@Injectable()
export class PostgresUsersRepository implements UsersRepository {
  constructor(private readonly database: Database<UsersDatabase>) {}

  async create(user: NewUser): Promise<User> {
    const row = await this.write(user.email, (db) =>
      db
        .with('next_id', (db) => nextId(db, 'users'))
        .insertInto('users')
        .columns(['id', 'name', 'email'])
        .expression((eb) =>
          eb
            .selectFrom('next_id')
            .select((eb) => [
              'last_id',
              eb.val(user.name).as('name'),
              eb.val(user.email).as('email'),
            ]),
        )
        .returning(COLUMNS)
        .executeTakeFirstOrThrow(),
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
    const row = await this.write(changes.email ?? '', (db) =>
      db
        .updateTable('users')
        .set({ ...changes, version: sql<number>`version + 1` })
        .where('id', '=', String(id))
        .where('version', '=', version)
        .returning(COLUMNS)
        .executeTakeFirst(),
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

  private async write<T>(
    email: string,
    statement: (db: Kysely<UsersDatabase>) => Promise<T>,
  ): Promise<T> {
    try {
      return await this.database.run(statement);
    } catch (error) {
      if (isUniqueViolation(error, 'users_email_lower_key'))
        throw new EmailTakenError(email);
      throw error;
    }
  }
}
