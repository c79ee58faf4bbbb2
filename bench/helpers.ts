// What both sections of the bench (req/s in run.ts, instructions under callgrind) use. The bench
// runs as plain Node from dist/bench, without the `@app/*` aliases, so not libs/testing's copy.
import { createServer } from 'node:net';

/** A port free on loopback now, for an app about to start. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2
    ? sorted[middle]
    : (sorted[middle - 1] + sorted[middle]) / 2;
};
