import { Transform } from 'class-transformer';

/** An environment integer: decimal digits only, so `5001abc` or `1e3` is refused, not coerced. */
export const EnvInt = () =>
  Transform(({ value }) =>
    typeof value === 'string' && /^\d{1,16}$/.test(value.trim())
      ? Number(value.trim())
      : value,
  );
