import { IsDefined, Matches } from 'class-validator';
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

/**
 * No C0 control character and no DEL (U+0000 to U+001F, U+007F) anywhere in a text field: they
 * have no place in a name, an email or a product, break logs and terminals, and PostgreSQL refuses
 * a NUL in text outright. Documented in the schema as the same pattern.
 */
export const NO_CONTROL_CHARACTERS = '^[^\\u0000-\\u001F\\u007F]*$';
/**
 * The same, and not blank: what a trimmed, non-empty text field with no control characters is,
 * said of the value as sent (its spaces are trimmed before the rules apply), for the schema.
 */
export const TEXT_PATTERN =
  '^[^\\u0000-\\u001F\\u007F]*[^\\s\\u0000-\\u001F\\u007F][^\\u0000-\\u001F\\u007F]*$';
export const NoControlCharacters = () =>
  Matches(new RegExp(NO_CONTROL_CHARACTERS, 'u'), {
    message: '$property must not contain control characters',
  });
