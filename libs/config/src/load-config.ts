import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { fieldErrors } from './field-errors';
import { partsOf, type SettingsClass } from './compose-settings';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads a settings class, or an app's config composed of several (see composeSettings), from the
 * environment. Property names are the variable names and field initializers the defaults; unset or
 * empty variables take the default. Each part is validated by its own rules, and every wrong value
 * of every part is named in one error.
 */
export function loadConfig<T extends object>(
  schema: SettingsClass<T>,
  env: Record<string, string | undefined> = process.env,
): T {
  const config = new schema();
  const lines: string[] = [];
  for (const { part, keys } of partsOf(schema)) {
    const given = Object.fromEntries(
      keys
        .filter((key) => env[key] !== undefined && env[key] !== '')
        .map((key) => [key, env[key]]),
    );
    const loaded = plainToInstance(part, given);
    for (const { field, message } of fieldErrors(
      validateSync(loaded, { stopAtFirstError: true }),
    ))
      lines.push(
        `  ${field}=${JSON.stringify(withoutPassword(env[field]))}: ${message}`,
      );
    for (const key of keys)
      Object.assign(config, { [key]: Reflect.get(loaded, key) });
  }
  if (lines.length > 0)
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  return config;
}

/**
 * The rules a config's values break, part by part, for a config built in code rather than read
 * from the environment (a test's): empty when it is one production would accept.
 */
export function configErrors(schema: SettingsClass, config: object): string[] {
  return partsOf(schema).flatMap(({ part, keys }) => {
    const values = Object.assign(
      new part(),
      Object.fromEntries(keys.map((key) => [key, Reflect.get(config, key)])),
    );
    return fieldErrors(validateSync(values)).map(
      ({ field, message }) => `${field}: ${message}`,
    );
  });
}

/** For `main.ts`: a wrong value stops the process with one clear message and exit code 1. */
export function loadConfigOrExit<T extends object>(
  schema: SettingsClass<T>,
): T {
  try {
    return loadConfig(schema);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

/** A URL's password never reaches a log or an error message. */
function withoutPassword(value: string | undefined): string | undefined {
  return value?.replace(
    /^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]*@/i,
    '$1:***@',
  );
}
