import { join, resolve } from 'node:path';

/** Where the consumer tests write pact files and the provider verifications read them. */
export const PACT_DIR = resolve(__dirname, '../../../../pacts');

export function pactFile(consumer: string, provider: string): string {
  return join(PACT_DIR, `${consumer}-${provider}.json`);
}
