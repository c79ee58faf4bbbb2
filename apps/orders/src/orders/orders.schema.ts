import { SERVICE_TABLES_COLUMNS, type ServiceTables } from '@app/platform';
import type { SchemaColumns } from '@app/storage';
import type { ColumnType } from 'kysely';

/** As the migrations beside this file create it; bigint ids read back as strings. */
export interface OrdersTable {
  id: ColumnType<string, number, never>;
  user_id: ColumnType<string, number, never>;
  product: string;
}

/** The orders database: what `Kysely<OrdersDatabase>` may query. */
export interface OrdersDatabase extends ServiceTables {
  orders: OrdersTable;
}

/** Every column of the schema, held to it by the compiler; a test compares it with the migrations. */
export const ORDERS_SCHEMA: SchemaColumns<OrdersDatabase> = {
  orders: {
    id: { type: 'bigint', nullable: false },
    user_id: { type: 'bigint', nullable: false },
    product: { type: 'text', nullable: false },
  },
  ...SERVICE_TABLES_COLUMNS,
};
