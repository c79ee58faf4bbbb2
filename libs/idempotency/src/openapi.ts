import type { OpenAPIObject } from '@nestjs/swagger';
import { IDEMPOTENCY_KEY_HEADER } from './idempotency.interceptor';
import { IdempotencySettings } from './idempotency.settings';

/**
 * Says in the document how long this deployment remembers keys: a decorator runs before the
 * service's settings are known, so the documented header is completed here, from them.
 */
export function describeIdempotencyKeys(
  document: OpenAPIObject,
  settings: IdempotencySettings,
): OpenAPIObject {
  const remembered = ` Remembered ${duration(settings.IDEMPOTENCY_TTL_MS)}, at most ${settings.IDEMPOTENCY_MAX_KEYS} keys.`;
  for (const item of Object.values(document.paths))
    for (const operation of [item.post, item.put, item.patch, item.delete])
      for (const parameter of operation?.parameters ?? [])
        if (
          'in' in parameter &&
          parameter.in === 'header' &&
          parameter.name.toLowerCase() === IDEMPOTENCY_KEY_HEADER
        )
          parameter.description = `${parameter.description ?? ''}${remembered}`;
  return document;
}

/** 86400000 → "24 h", 90000 → "90 s": the largest unit that divides it. */
function duration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['min', 60_000],
    ['s', 1000],
  ] as const)
    if (ms % size === 0 && (unit !== 'd' || ms / size > 1))
      return `${ms / size} ${unit}`;
  return `${ms} ms`;
}
