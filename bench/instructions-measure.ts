// One implementation of the pair under callgrind, for bench/instructions.ts: the data set, then
// each route's warm-up and counted windows.
import { join } from 'node:path';
import {
  Count,
  Counted,
  countDuring,
  startCounted,
  stopCounted,
} from './callgrind';
import { freePort, median } from './helpers';
import type { InstructionsOptions, Measured } from './instructions-types';
import { ROUTES, Route, Target } from './instructions-setup';

interface Pair {
  users: Counted;
  orders: Counted;
}

const DATA = { users: 50, orders: 50 };
/** Requests sent instrumented before the counters are zeroed. */
const PRIMING = 20;

/**
 * With `--keep`, node writes V8's perf map (/tmp/perf-<pid>.map), which names the JIT-compiled
 * functions that callgrind's files only know by address.
 */
async function startPair(
  target: Target,
  dir: string,
  keep: boolean,
): Promise<Pair> {
  const label = target.key;
  // V8 writes its log beside the perf map: into the kept directory, not the working one.
  const flags = (app: string) =>
    keep
      ? [
          '--perf-basic-prof',
          '--no-logfile-per-isolate',
          `--logfile=${join(dir, `${label}-${app}.v8.log`)}`,
        ]
      : [];
  const usersPort = await freePort();
  const usersCommand = target.command('users', usersPort, '');
  const users = await startCounted(
    `${label}-users`,
    dir,
    [...flags('users'), ...usersCommand.args],
    usersCommand.env,
    usersPort,
  );
  const ordersPort = await freePort();
  const ordersCommand = target.command('orders', ordersPort, users.url);
  const orders = await startCounted(
    `${label}-orders`,
    dir,
    [...flags('orders'), ...ordersCommand.args],
    ordersCommand.env,
    ordersPort,
  );
  return { users, orders };
}

/**
 * A request, sent again once if its kept-alive connection was reset: under valgrind the server
 * can close an idle connection late, just as a request goes out on it, and that request was never
 * read.
 */
async function fetchOnce(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    console.warn(`${init.method} ${url}: ${String(error)}; sent again`);
    return fetch(url, init);
  }
}

/** Sends `count` requests of a route, one after the other; answers the failures (not 2xx). */
async function send(url: string, route: Route, count: number): Promise<number> {
  let failed = 0;
  for (let i = 0; i < count; i++) {
    const { method, path, body } = route.request(i, DATA);
    const response = await fetchOnce(`${url}${path}`, {
      method,
      body,
      headers: body ? { 'content-type': 'application/json' } : {},
    });
    const answer = await response.text();
    if (!response.ok) {
      failed++;
      console.warn(
        `${method} ${path}: ${response.status} ${answer.slice(0, 200)}`,
      );
    }
  }
  return failed;
}

/**
 * A route's warm-up, then its windows, each counted apart: V8 still deoptimizes, recompiles and
 * collects now and then, and the median of the windows leaves out a window that met one of those.
 */
async function measureRoute(
  pair: Pair,
  route: Route,
  options: InstructionsOptions,
): Promise<Measured> {
  const server = pair[route.app];
  await send(server.url, route, options.warmup);
  // Orders' routes call users: users' side of the hop is counted too.
  const servers = route.app === 'orders' ? [server, pair.users] : [server];
  const windows: Count[][] = [];
  let failed = 0;
  for (let window = 0; window < options.windows; window++)
    windows.push(
      await countDuring(
        servers,
        () => send(server.url, route, PRIMING),
        async () => {
          failed += await send(server.url, route, options.requests);
        },
      ),
    );
  const perRequest = (pick: (counts: Count[]) => number) =>
    median(windows.map(pick)) / options.requests;
  return {
    own: perRequest(([own]) => own.main),
    helpers: perRequest(([own]) => own.helpers),
    users:
      route.app === 'orders'
        ? perRequest(([, users]) => users.main)
        : undefined,
    failed,
  };
}

export async function measureTarget(
  target: Target,
  routes: Route[],
  options: InstructionsOptions,
  dir: string,
): Promise<Map<string, Measured>> {
  const pair = await startPair(target, dir, options.keep);
  const figures = new Map<string, Measured>();
  try {
    for (const [key, count] of [
      ['post-user', DATA.users],
      ['post-order', DATA.orders],
    ] as const) {
      const route = ROUTES.find((r) => r.key === key);
      if (!route || (await send(pair[route.app].url, route, count)) > 0)
        throw new Error(`${target.name}: the data set could not be created`);
    }
    for (const route of routes) {
      const measured = await measureRoute(pair, route, options);
      figures.set(route.key, measured);
      const k = (n: number) => `${Math.round(n / 1000)}k`;
      console.log(
        `${route.name.padEnd(16)} ${target.name.padEnd(38)} ${k(measured.own)} instructions/request, ` +
          `helpers ${k(measured.helpers)}` +
          (measured.users === undefined ? '' : `, users ${k(measured.users)}`) +
          (measured.failed ? `, ${measured.failed} failed` : ''),
      );
    }
  } finally {
    await stopCounted(pair.orders);
    await stopCounted(pair.users);
  }
  return figures;
}
