import { plainToInstance, Transform } from 'class-transformer';
import { validateSync } from 'class-validator';
import { fieldErrors } from './validation';

/** An environment integer: decimal digits only, so `5001abc` or `1e3` is refused, not coerced. */
export const EnvInt = () =>
  Transform(({ value }) =>
    typeof value === 'string' && /^\d{1,16}$/.test(value.trim())
      ? Number(value.trim())
      : value,
  );

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads a config class from the environment. Property names are the variable names and field
 * initializers the defaults; unset or empty variables take the default. Every wrong value is named
 * in one error.
 */
export function loadConfig<T extends object>(
  schema: new () => T,
  env: Record<string, string | undefined> = process.env,
): T {
  const defaults = new schema();
  const given = Object.fromEntries(
    Object.keys(defaults)
      .filter((key) => env[key] !== undefined && env[key] !== '')
      .map((key) => [key, env[key]]),
  );
  const config = plainToInstance(schema, given);
  const errors = fieldErrors(validateSync(config, { stopAtFirstError: true }));
  if (errors.length > 0) {
    const lines = errors.map(
      ({ field, message }) =>
        `  ${field}=${JSON.stringify(withoutPassword(env[field]))}: ${message}`,
    );
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return config;
}

/** For `main.ts`: a wrong value stops the process with one clear message and exit code 1. */
export function loadConfigOrExit<T extends object>(schema: new () => T): T {
  try {
    return loadConfig(schema);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

/** A URL's password never reaches a log or an error message. */
export function withoutPassword(value: string | undefined): string | undefined {
  return value?.replace(
    /^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]*@/i,
    '$1:***@',
  );
}
