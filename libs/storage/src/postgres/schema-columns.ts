import type { Selectable } from 'kysely';

/** The PostgreSQL types our columns use, as `information_schema.columns.data_type` names them. */
type TextType = 'text' | 'uuid';
type NumberType = 'integer' | 'bigint';

type PgTypeOf<T> = [T] extends [string]
  ? TextType | 'bigint'
  : [T] extends [number]
    ? NumberType
    : 'jsonb';

/** How a column reads: its PostgreSQL type, and whether it may be null. */
export type ColumnShape<T> = {
  type: PgTypeOf<NonNullable<T>>;
  nullable: null extends T ? true : false;
};

/**
 * Every table and column of a database schema type, each with its PostgreSQL type and nullability.
 * The compiler holds a value of this type to the schema exactly (a column missing, extra, of the
 * wrong kind or nullability does not compile), so comparing it with what the migrations built
 * compares the schema type with the migrations.
 */
export type SchemaColumns<DB> = {
  [Table in keyof DB]: {
    [Column in keyof Selectable<DB[Table]>]-?: ColumnShape<
      Selectable<DB[Table]>[Column]
    >;
  };
};
