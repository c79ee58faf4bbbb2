import type { Page, PageRequest } from '@app/contracts';
import { Database, isUniqueViolation, nextId } from '@app/storage';
import { Injectable } from '@nestjs/common';
import type { Selectable } from 'kysely';
import type { UsersDatabase, UsersTable } from './users.schema';
import {
  EmailTakenError,
  NewUser,
  User,
  UsersRepository,
} from './users.repository';

const toUser = (row: Selectable<UsersTable>): User => ({
  id: Number(row.id),
  name: row.name,
  email: row.email,
});

/** Users in this service's PostgreSQL database, shared by every replica. */
@Injectable()
export class PostgresUsersRepository implements UsersRepository {
  constructor(private readonly database: Database<UsersDatabase>) {}

  async create(user: NewUser): Promise<User> {
    try {
      const row = await this.database.run((db) =>
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
          .returning(['id', 'name', 'email'])
          .executeTakeFirstOrThrow(),
      );
      return toUser(row);
    } catch (error) {
      if (isUniqueViolation(error, 'users_email_lower_key'))
        throw new EmailTakenError(user.email);
      throw error;
    }
  }

  async findById(id: number): Promise<User | undefined> {
    const row = await this.database.run((db) =>
      db
        .selectFrom('users')
        .select(['id', 'name', 'email'])
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
          .select(['id', 'name', 'email'])
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
}
