import { IsDefined } from 'class-validator';
import { Transform } from 'class-transformer';

/** Trims strings and leaves anything else alone, so a non-string still fails `@IsString()`. */
export const Trim = () =>
  Transform(({ value }) => (typeof value === 'string' ? value.trim() : value));

/**
 * Query strings arrive as text. Only plain decimal digits become numbers: `1e3`, ` 5`, `0x10`
 * or `5.0` stay strings and fail `@IsInt()`, instead of being quietly coerced by `Number()`.
 * Any number of digits converts, so a value too large fails `@Max` with that reason, not with
 * "must be an integer number".
 */
export const QueryInt = () =>
  Transform(({ value }) =>
    typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value,
  );

/** "name is required" for a missing or null field, rather than its type error. */
export const IsRequired = () => IsDefined({ message: '$property is required' });
