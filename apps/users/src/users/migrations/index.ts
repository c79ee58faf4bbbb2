import type { Migration } from 'kysely/migration';
import { idempotencyKeysMigration } from '@app/idempotency';
import * as createUsers from './0001-create-users';
import * as seedUsers from './0002-seed-users';
import * as addUserVersions from './0004-add-user-versions';

/**
 * The users database's schema, in the order it is applied; a released migration never changes.
 * `../users.schema.ts` is the type of what they build (a test compares the two).
 */
export const USERS_MIGRATIONS: Record<string, Migration> = {
  '0001-create-users': createUsers,
  '0002-seed-users': seedUsers,
  '0003-create-idempotency-keys': idempotencyKeysMigration,
  '0004-add-user-versions': addUserVersions,
};
