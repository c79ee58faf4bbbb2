import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `check` until `done` accepts what it gives, and returns that: for a test waiting on an
 * event in another process or server. The limit only bounds a failure, and is generous, so that a
 * loaded machine is slow rather than failing.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  done: (value: T) => boolean,
  what: string,
  { limitMs = 15_000, everyMs = 20 } = {},
): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(
        `Timed out after ${limitMs} ms waiting for ${what} (last: ${JSON.stringify(value)})`,
      );
    await sleep(everyMs);
  }
}
