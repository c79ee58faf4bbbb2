import type { ValidationError } from 'class-validator';

/** One wrong field and why, as class-validator found it. */
export interface FieldError {
  field: string;
  message: string;
}

/** Every failed rule of every field, nested fields joined with dots. */
export function fieldErrors(
  errors: ValidationError[],
  parent?: string,
): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    return [
      ...Object.values(error.constraints ?? {}).map((message) => ({
        field,
        message,
      })),
      ...fieldErrors(error.children ?? [], field),
    ];
  });
}
