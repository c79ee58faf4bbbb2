import { SERVICE_TABLES_COLUMNS, type ServiceTables } from '@app/platform';
import type { SchemaColumns } from '@app/storage';
import type { ColumnType, Generated } from 'kysely';

/** As the migrations beside this file create it; bigint ids read back as strings. */
export interface UsersTable {
  id: ColumnType<string, number, never>;
  name: string;
  email: string;
  /** 1 when created, one more with each change. */
  version: Generated<number>;
}

/** The users database: what `Kysely<UsersDatabase>` may query. */
export interface UsersDatabase extends ServiceTables {
  users: UsersTable;
}

/** Every column of the schema, held to it by the compiler; a test compares it with the migrations. */
export const USERS_SCHEMA: SchemaColumns<UsersDatabase> = {
  users: {
    id: { type: 'bigint', nullable: false },
    name: { type: 'text', nullable: false },
    email: { type: 'text', nullable: false },
    version: { type: 'integer', nullable: false },
  },
  ...SERVICE_TABLES_COLUMNS,
};
