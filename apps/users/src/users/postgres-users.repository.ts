import { Injectable } from '@nestjs/common';
import { Database, isUniqueViolation } from '@app/database';
import { sql } from 'kysely';
import {
  EmailTakenError,
  NewUser,
  Page,
  User,
  UsersRepository,
} from './users.repository';

interface UserRow {
  id: string;
  name: string;
  email: string;
}

// bigint comes back as a string; ids stay below 2^53 (the API refuses larger ones).
const toUser = (row: UserRow): User => ({
  id: Number(row.id),
  name: row.name,
  email: row.email,
});

/** Users in this service's PostgreSQL database, shared by every replica. */
@Injectable()
export class PostgresUsersRepository implements UsersRepository {
  constructor(private readonly database: Database) {}

  async create(user: NewUser): Promise<User> {
    try {
      // One statement: the counter's row lock orders concurrent creates, and a refused insert
      // rolls the increment back with it.
      const { rows } = await this.database.run((db) =>
        sql<UserRow>`
          with next as (
            update id_counters set last_id = last_id + 1
            where name = 'users' returning last_id
          )
          insert into users (id, name, email)
          select last_id, ${user.name}, ${user.email} from next
          returning id, name, email`.execute(db),
      );
      return toUser(rows[0]);
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
        .where('id', '=', id)
        .executeTakeFirst(),
    );
    return row && toUser(row as UserRow);
  }

  async list({
    limit,
    offset,
  }: {
    limit: number;
    offset: number;
  }): Promise<Page<User>> {
    // Ids are handed out in commit order (the counter row is held until commit), so a page read
    // by id never skips a row committed before it.
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
          .select(sql<string>`count(*)`.as('total'))
          .executeTakeFirstOrThrow(),
      ]),
    );
    return {
      items: rows.map((row) => toUser(row as UserRow)),
      total: Number(count.total),
    };
  }
}
