// What bench/instructions.ts runs under callgrind: the implementations (as bench/run.ts starts
// them, in memory), the routes, and the project's features that a setting switches.
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

export type App = 'users' | 'orders';

export interface Target {
  key: string;
  name: string;
  command(
    app: App,
    port: number,
    usersUrl: string,
  ): { args: string[]; env: NodeJS.ProcessEnv };
}

/**
 * Under valgrind a process runs some fifty times slower, and now and then stalls for seconds
 * (translating code anew, collecting): the deadlines of a call to users are raised, so that a
 * stall does not turn into a 504 and a retry whose work would be counted. A deadline costs the
 * same to arm whatever its length.
 */
const SLOW_DEADLINES = {
  USERS_SERVICE_TIMEOUT_MS: '60000',
  USERS_SERVICE_ATTEMPT_TIMEOUT_MS: '60000',
};

/** The project's built apps, production defaults, with some settings changed. */
const projectWith = (
  key: string,
  name: string,
  settings: NodeJS.ProcessEnv,
): Target => ({
  key,
  name,
  command: (app, port, usersUrl) => ({
    args: [join(ROOT, 'dist', 'apps', app, 'main.js')],
    env: {
      NODE_ENV: 'production',
      [app === 'users' ? 'USERS_PORT' : 'ORDERS_PORT']: String(port),
      USERS_SERVICE_URL: usersUrl,
      ...SLOW_DEADLINES,
      ...settings,
    },
  }),
});

/** A port in bench/: `node dist/bench/bench/<dir>/main.js <app>`. */
const port = (key: string, name: string, dir: string): Target => ({
  key,
  name,
  command: (app, port, usersUrl) => ({
    args: [join(ROOT, 'dist', 'bench', 'bench', dir, 'main.js'), app],
    env: {
      NODE_ENV: 'production',
      PORT: String(port),
      USERS_SERVICE_URL: usersUrl,
      USERS_TIMEOUT_MS: SLOW_DEADLINES.USERS_SERVICE_TIMEOUT_MS,
    },
  }),
});

export const project = projectWith('project', 'project', {});
export const TARGETS: Target[] = [
  project,
  port('minimal', 'minimal Nest', 'minimal'),
  port('featured', 'featured Nest', 'featured'),
  port('bare', 'bare node:http', 'bare'),
];

export interface Route {
  key: string;
  name: string;
  app: App;
  /** The i-th request: the same sequence on every run. */
  request(
    i: number,
    data: { users: number; orders: number },
  ): { method: 'GET' | 'POST'; path: string; body?: string };
}

let unique = 0;
export const ROUTES: Route[] = [
  {
    key: 'get-user',
    name: 'GET /users/:id',
    app: 'users',
    request: (i, data) => ({
      method: 'GET',
      path: `/users/${1 + (i % data.users)}`,
    }),
  },
  {
    key: 'get-order',
    name: 'GET /orders/:id',
    app: 'orders',
    request: (i, data) => ({
      method: 'GET',
      path: `/orders/${1 + (i % data.orders)}`,
    }),
  },
  {
    key: 'post-user',
    name: 'POST /users',
    app: 'users',
    request: () => {
      const n = `${process.pid}-${++unique}`;
      return {
        method: 'POST',
        path: '/users',
        body: JSON.stringify({
          name: `User ${n}`,
          email: `user-${n}@example.com`,
        }),
      };
    },
  },
  {
    key: 'post-order',
    name: 'POST /orders',
    app: 'orders',
    request: (i, data) => ({
      method: 'POST',
      path: '/orders',
      body: JSON.stringify({
        user_id: 1 + (i % data.users),
        product: `Product ${++unique}`,
      }),
    }),
  },
];

/** A feature of the project measured by a setting that switches it. */
export interface Feature {
  name: string;
  setting: string;
  /** The setting turns on a feature that is off by default: its cost is added, not saved. */
  adds: boolean;
  routes: string[];
  target: Target;
}

const feature = (
  name: string,
  setting: [string, string],
  routes: string[],
  adds = false,
): Feature => ({
  name,
  setting: `${setting[0]}=${setting[1]}`,
  adds,
  routes,
  target: projectWith(
    `project-${setting[0].toLowerCase()}`,
    `project, ${setting[0]}=${setting[1]}`,
    { [setting[0]]: setting[1] },
  ),
});

export const FEATURES: Feature[] = [
  feature(
    'the request log line',
    ['LOG_LEVEL', 'silent'],
    ['get-user', 'get-order', 'post-user', 'post-order'],
  ),
  feature(
    "orders' copies of users",
    ['USERS_CACHE_MAX_ENTRIES', '0'],
    ['get-order', 'post-order'],
  ),
  feature(
    'the rate limit (off by default)',
    ['RATE_LIMIT_PER_MINUTE', '1000000'],
    ['get-user', 'post-user'],
    true,
  ),
];
