import { eventually } from './eventually';

/** Clients under way, the answers so far, and how to wait for more or stop them. */
export interface SteadyLoad<T> {
  outcomes: T[];
  /** Waits until `count` more answers have come, however slow the machine (up to `limitMs`). */
  next(count: number): Promise<void>;
  /** Stops the clients once their requests in flight are answered; every answer. */
  stop(): Promise<T[]>;
}

/**
 * `clients` clients, each sending one request after another until stopped: the i-th request a
 * client sends is `send(i)`, the clients starting at 0, 1, 2, ... so that together they go round
 * what `send` makes of i.
 */
export function steadyLoad<T>(
  clients: number,
  send: (i: number) => Promise<T>,
  { limitMs = 60_000 } = {},
): SteadyLoad<T> {
  const outcomes: T[] = [];
  let running = true;
  const client = async (offset: number) => {
    for (let i = offset; running; i++) outcomes.push(await send(i));
  };
  const all = Array.from({ length: clients }, (_, n) => client(n));
  return {
    outcomes,
    async next(count: number) {
      const target = outcomes.length + count;
      await eventually(
        () => outcomes.length,
        (done) => done >= target,
        `${count} more answers under load`,
        { limitMs },
      );
    },
    async stop() {
      running = false;
      await Promise.all(all);
      return outcomes;
    },
  };
}

/**
 * The routes a mixed load sends, of both services: reads and creates, the two-hop routes (orders
 * asks users) and the one that needs no users.
 */
export const MIXED_LOAD_ROUTES = [
  'GET /users/:id',
  'POST /users',
  'GET /orders/:id',
  'POST /orders',
  'GET /orders',
] as const;
export type MixedLoadRoute = (typeof MIXED_LOAD_ROUTES)[number];
