// The floor: the same two services on node:http alone, no framework, no validation library.
import {
  Agent,
  createServer,
  IncomingMessage,
  request,
  ServerResponse,
} from 'node:http';

const port = Number(process.env.PORT);
const usersUrl = new URL(process.env.USERS_SERVICE_URL || 'http://127.0.0.1:1');
const agent = new Agent({ keepAlive: true });

type Handler = (
  body: any,
  id: number,
) => Promise<[number, unknown]> | [number, unknown];

function send(res: ServerResponse, [status, body]: [number, unknown]): void {
  const text = JSON.stringify(body ?? {});
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function readJson(req: IncomingMessage): Promise<any> {
  return new Promise((resolve) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => {
      try {
        resolve(JSON.parse(text));
      } catch {
        resolve(undefined);
      }
    });
  });
}

function fetchUser(id: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: usersUrl.hostname,
        port: usersUrl.port,
        path: `/users/${id}`,
        agent,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve(res.statusCode === 200 ? JSON.parse(text) : null),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const users = new Map<number, { name: string; email: string }>([
  [1, { name: 'Alice', email: 'alice@example.com' }],
  [2, { name: 'Bob', email: 'bob@example.com' }],
]);
const emails = new Set(['alice@example.com', 'bob@example.com']);
const orders = new Map<number, { user_id: number; product: string }>([
  [1, { user_id: 1, product: 'Laptop' }],
  [2, { user_id: 2, product: 'Smartphone' }],
]);

const routes: Record<string, Handler> = {
  'GET /health/ready': () => [200, { status: 'ok' }],
  'GET /users/:id': (_body, id) =>
    users.has(id) ? [200, users.get(id)] : [404, null],
  'POST /users': ({ name, email } = {}) => {
    if (typeof name !== 'string' || typeof email !== 'string')
      return [400, null];
    if (emails.has(email.toLowerCase())) return [409, null];
    emails.add(email.toLowerCase());
    users.set(users.size + 1, { name, email });
    return [201, { user_id: users.size }];
  },
  'GET /orders/:id': async (_body, id) => {
    const order = orders.get(id);
    if (!order) return [404, null];
    return [200, { ...order, user: await fetchUser(order.user_id) }];
  },
  'POST /orders': async ({ user_id, product } = {}) => {
    if (!Number.isInteger(user_id) || typeof product !== 'string')
      return [400, null];
    if (!(await fetchUser(user_id))) return [422, null];
    orders.set(orders.size + 1, { user_id, product });
    return [201, { order_id: orders.size }];
  },
};

createServer((req, res) => {
  const match = /^\/(users|orders)\/(\d+)$/.exec(req.url ?? '');
  const route = routes[`${req.method} ${match ? `/${match[1]}/:id` : req.url}`];
  if (!route) return send(res, [404, null]);
  const body =
    req.method === 'POST' ? readJson(req) : Promise.resolve(undefined);
  body
    .then((json) => route(json, Number(match?.[2])))
    .then((answer) => send(res, answer))
    .catch(() => send(res, [500, null]));
}).listen(port, '127.0.0.1');
