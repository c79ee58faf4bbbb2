/**
 * What a team calling users and orders from TypeScript writes: a client generated from each
 * service's /openapi.json with openapi-typescript, called through openapi-fetch, every request and
 * every answer typed by the generated types alone: no cast, no any, no non-null assertion. The one
 * @ts-expect-error marks the request the types refuse (a PATCH without If-Match), and stops
 * compiling if they ever accept it. Run it against a fresh pair of apps, users first:
 *
 *   node test/generated-client/flow.mts http://localhost:5001 http://localhost:5002
 *
 * (or USERS_URL and ORDERS_URL). It exits 1 at the first answer that is not the expected one.
 * test/generated-client.e2e-spec.ts generates ./generated/*.ts from the served documents, compiles
 * this file with tsc --strict (tsconfig.json here) and runs it against the built apps.
 */
import createClient from 'openapi-fetch';
import { isDeepStrictEqual } from 'node:util';
import type {
  components as OrdersComponents,
  paths as OrdersPaths,
} from './generated/orders.ts';
import type {
  components as UsersComponents,
  paths as UsersPaths,
} from './generated/users.ts';

type User = UsersComponents['schemas']['User'];
type UserList = UsersComponents['schemas']['UserList'];
type FieldError = UsersComponents['schemas']['FieldError'];
type Problem = UsersComponents['schemas']['ProblemDetails'];
type OrderProblem = OrdersComponents['schemas']['ProblemDetails'];
type Order = OrdersComponents['schemas']['Order'];
type OrderList = OrdersComponents['schemas']['OrderList'];

// The ETag headers as the documents type them. The document says every 200 of GET and PATCH
// /users/{id} carries one, so each is a plain string that can be sent back in If-Match (a required
// string too). Were the header optional or undescribed, the PATCH and DELETE calls below that send
// it would not compile: the readers return these types, so nothing narrows them back to string.
type UserETag =
  UsersPaths['/users/{id}']['get']['responses'][200]['headers']['ETag'];
type NotModifiedETag =
  UsersPaths['/users/{id}']['get']['responses'][304]['headers']['ETag'];
type ChangedETag =
  UsersPaths['/users/{id}']['patch']['responses'][200]['headers']['ETag'];
type Replayed =
  UsersPaths['/users']['post']['responses'][201]['headers']['Idempotent-Replayed'];

const MERGE_PATCH = 'application/merge-patch+json';
const JSON_TYPE = 'application/json; charset=utf-8';

// ---------------------------------------------------------------------------------------------
// Checks: each throws a FlowMismatch naming the call and what differed.

class FlowMismatch extends Error {}

let checks = 0;

function fail(call: string, message: string): never {
  throw new FlowMismatch(`${call}: ${message}`);
}

function expectEqual(
  call: string,
  what: string,
  actual: unknown,
  expected: unknown,
): void {
  checks++;
  if (!isDeepStrictEqual(actual, expected))
    fail(
      call,
      `${what} is ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`,
    );
}

/** What openapi-fetch answers: the 2xx body in data, the 4xx/5xx body in error. */
interface Answer<Data, Failure> {
  data?: Data;
  error?: Failure;
  response: Response;
}

/** A success: the status, a JSON body, and that body as its generated type. */
function expectData<Data, Failure>(
  call: string,
  answer: Answer<Data, Failure>,
  status: number,
): Data {
  const { data, error, response } = answer;
  if (response.status !== status)
    fail(
      call,
      `answered ${response.status}, expected ${status}: ${JSON.stringify(error)}`,
    );
  expectEqual(
    call,
    'Content-Type',
    response.headers.get('content-type'),
    JSON_TYPE,
  );
  if (data === undefined) return fail(call, 'no body');
  return data;
}

/** A problem answer, read through the generated ProblemDetails. */
function expectProblem<Data>(
  call: string,
  answer: Answer<Data, Problem | OrderProblem>,
  expected: {
    status: number;
    title: string;
    detail: string;
    errors?: FieldError[];
  },
): Problem | OrderProblem {
  const { error, response } = answer;
  if (response.status !== expected.status)
    fail(
      call,
      `answered ${response.status}, expected ${expected.status}: ${JSON.stringify(answer.data ?? error)}`,
    );
  const type = response.headers.get('content-type') ?? '';
  if (!type.startsWith('application/problem+json'))
    fail(call, `Content-Type is ${type}, expected application/problem+json`);
  if (error === undefined) return fail(call, 'no problem details');
  const {
    type: problemType,
    title,
    status,
    detail,
    errors,
    request_id,
  } = error;
  expectEqual(call, 'type', problemType, 'about:blank');
  expectEqual(call, 'title', title, expected.title);
  expectEqual(call, 'status', status, expected.status);
  expectEqual(call, 'detail', detail, expected.detail);
  // errors[] is optional in the document: present on validation failures only.
  expectEqual(call, 'errors', errors, expected.errors);
  expectEqual(
    call,
    'request_id',
    request_id,
    response.headers.get('x-request-id'),
  );
  return error;
}

/** A header the document marks required: its generated type is a string, and it must be there. */
function requiredHeader(
  call: string,
  response: Response,
  name: string,
): string {
  const value = response.headers.get(name);
  if (value === null) return fail(call, `no ${name} header`);
  return value;
}

/** The ETag of a user read with GET /users/{id}. */
function userETag(call: string, response: Response): UserETag {
  return requiredHeader(call, response, 'ETag');
}

/** The ETag of a 304 to GET /users/{id}: the version the client holds. */
function notModifiedETag(call: string, response: Response): NotModifiedETag {
  return requiredHeader(call, response, 'ETag');
}

/** The ETag of a user as PATCH /users/{id} changed it. */
function changedUserETag(call: string, response: Response): ChangedETag {
  return requiredHeader(call, response, 'ETag');
}

// ---------------------------------------------------------------------------------------------

const [usersUrl = process.env.USERS_URL, ordersUrl = process.env.ORDERS_URL] =
  process.argv.slice(2);
if (!usersUrl || !ordersUrl) {
  console.error(
    'usage: node flow.mts <usersUrl> <ordersUrl> (or USERS_URL and ORDERS_URL)',
  );
  process.exit(2);
}

const users = createClient<UsersPaths>({ baseUrl: usersUrl });
const orders = createClient<OrdersPaths>({ baseUrl: ordersUrl });

async function seedCalls(): Promise<void> {
  // The seed README's four calls, in order, on a fresh pair: exactly the seed's answers.
  let call = 'GET /users/1';
  const alice: User = expectData(
    call,
    await users.GET('/users/{id}', { params: { path: { id: 1 } } }),
    200,
  );
  expectEqual(
    call,
    'body',
    JSON.stringify(alice),
    '{"name":"Alice","email":"alice@example.com"}',
  );

  call = 'POST /users';
  const charlie = expectData(
    call,
    await users.POST('/users', {
      body: { name: 'Charlie', email: 'charlie@example.com' },
    }),
    201,
  );
  expectEqual(call, 'body', JSON.stringify(charlie), '{"user_id":3}');

  call = 'GET /orders/1';
  const laptop: Order = expectData(
    call,
    await orders.GET('/orders/{id}', { params: { path: { id: 1 } } }),
    200,
  );
  expectEqual(
    call,
    'body',
    JSON.stringify(laptop),
    '{"user_id":1,"product":"Laptop","user":{"name":"Alice","email":"alice@example.com"}}',
  );

  call = 'POST /orders';
  const tablet = expectData(
    call,
    await orders.POST('/orders', { body: { user_id: 2, product: 'Tablet' } }),
    201,
  );
  expectEqual(call, 'body', JSON.stringify(tablet), '{"order_id":3}');
}

async function operations(): Promise<void> {
  const usersHealth = expectData(
    'GET users /health/live',
    await users.GET('/health/live'),
    200,
  );
  expectEqual('GET users /health/live', 'status', usersHealth.status, 'ok');
  const ordersHealth = expectData(
    'GET orders /health/live',
    await orders.GET('/health/live'),
    200,
  );
  expectEqual('GET orders /health/live', 'status', ordersHealth.status, 'ok');

  // text/plain: openapi-fetch parses JSON unless told otherwise.
  const call = 'GET /metrics';
  const { data: metrics, response } = await users.GET('/metrics', {
    parseAs: 'text',
  });
  expectEqual(call, 'status', response.status, 200);
  if (metrics === undefined || !metrics.includes('# TYPE '))
    fail(call, 'not the Prometheus text format');
}

async function lists(): Promise<void> {
  let call = 'GET /users?limit=2&offset=1';
  const page: UserList = expectData(
    call,
    await users.GET('/users', { params: { query: { limit: 2, offset: 1 } } }),
    200,
  );
  expectEqual(call, 'page', page, {
    items: [
      { user_id: 2, name: 'Bob', email: 'bob@example.com' },
      { user_id: 3, name: 'Charlie', email: 'charlie@example.com' },
    ],
    total: 3,
    limit: 2,
    offset: 1,
  });

  // Every user, two at a time, as a consumer walks the pages.
  call = 'GET /users?limit=2&offset=...';
  const names: string[] = [];
  for (let offset = 0; ;) {
    const { items, total } = expectData(
      call,
      await users.GET('/users', { params: { query: { limit: 2, offset } } }),
      200,
    );
    names.push(...items.map((user) => user.name));
    offset += items.length;
    if (items.length === 0 || offset >= total) break;
  }
  expectEqual(call, 'names', names, ['Alice', 'Bob', 'Charlie']);

  call = 'GET /users';
  const { limit, offset, total } = expectData(
    call,
    await users.GET('/users'),
    200,
  );
  expectEqual(call, 'limit, offset, total', [limit, offset, total], [50, 0, 3]);

  call = 'GET /orders?user_id=2';
  const bobs: OrderList = expectData(
    call,
    await orders.GET('/orders', { params: { query: { user_id: 2 } } }),
    200,
  );
  expectEqual(call, 'page', bobs, {
    items: [
      { order_id: 2, user_id: 2, product: 'Smartphone' },
      { order_id: 3, user_id: 2, product: 'Tablet' },
    ],
    total: 2,
    limit: 50,
    offset: 0,
  });

  call = 'GET /orders?limit=1&offset=2';
  expectEqual(
    call,
    'page',
    expectData(
      call,
      await orders.GET('/orders', {
        params: { query: { limit: 1, offset: 2 } },
      }),
      200,
    ),
    {
      items: [{ order_id: 3, user_id: 2, product: 'Tablet' }],
      total: 3,
      limit: 1,
      offset: 2,
    },
  );

  call = 'GET /users?limit=0';
  expectProblem(
    call,
    await users.GET('/users', { params: { query: { limit: 0 } } }),
    {
      status: 400,
      title: 'Bad Request',
      detail: 'Invalid request: limit must not be less than 1',
      errors: [{ field: 'limit', message: 'limit must not be less than 1' }],
    },
  );
}

async function userLifecycle(): Promise<void> {
  // Created with an Idempotency-Key: the retry replays the first answer and says so.
  let call = 'POST /users with an Idempotency-Key';
  const createDana = () =>
    users.POST('/users', {
      params: { header: { 'Idempotency-Key': 'flow-dana' } },
      body: { name: 'Dana', email: 'dana@example.com' },
    });
  const first = await createDana();
  const { user_id: id } = expectData(call, first, 201);
  expectEqual(call, 'user_id', id, 4);
  expectEqual(
    call,
    'Idempotent-Replayed',
    first.response.headers.get('Idempotent-Replayed'),
    null,
  );
  call = 'POST /users with the same Idempotency-Key again';
  const retry = await createDana();
  expectEqual(call, 'body', expectData(call, retry, 201), { user_id: id });
  const replayed: Replayed = 'true';
  expectEqual(
    call,
    'Idempotent-Replayed',
    retry.response.headers.get('Idempotent-Replayed'),
    replayed,
  );

  call = 'POST /users with that Idempotency-Key and another body';
  expectProblem(
    call,
    await users.POST('/users', {
      params: { header: { 'Idempotency-Key': 'flow-dana' } },
      body: { name: 'Erin', email: 'erin@example.com' },
    }),
    {
      status: 422,
      title: 'Unprocessable Entity',
      detail: 'This Idempotency-Key was already used with a different request',
    },
  );

  call = 'GET /users/{id}';
  const read = await users.GET('/users/{id}', { params: { path: { id } } });
  const dana: User = expectData(call, read, 200);
  expectEqual(call, 'user', dana, { name: 'Dana', email: 'dana@example.com' });
  const etag = userETag(call, read.response);
  expectEqual(
    call,
    'Cache-Control',
    read.response.headers.get('Cache-Control'),
    'no-cache',
  );

  // Revalidating through fetch: 304, no body, the same ETag. openapi-fetch counts a 304 neither
  // as data nor as an error the document describes, so the status is what to look at.
  call = 'GET /users/{id} with If-None-Match: its ETag';
  const revalidated = await users.GET('/users/{id}', {
    params: { path: { id }, header: { 'If-None-Match': etag } },
  });
  expectEqual(call, 'status', revalidated.response.status, 304);
  expectEqual(call, 'data', revalidated.data, undefined);
  expectEqual(call, 'ETag', notModifiedETag(call, revalidated.response), etag);

  // A JSON Merge Patch of the name, conditional on the version read.
  call = 'PATCH /users/{id} (merge patch, If-Match)';
  const patch = await users.PATCH('/users/{id}', {
    params: { path: { id }, header: { 'If-Match': etag } },
    headers: { 'Content-Type': MERGE_PATCH },
    body: { name: 'Dana Scully' },
  });
  expectEqual(call, 'user', expectData(call, patch, 200), {
    name: 'Dana Scully',
    email: 'dana@example.com',
  });
  const changedETag = changedUserETag(call, patch.response);
  if (changedETag === etag) fail(call, 'the ETag did not change');

  call = 'GET /users/{id} with If-None-Match: the old ETag';
  const reread = await users.GET('/users/{id}', {
    params: { path: { id }, header: { 'If-None-Match': etag } },
  });
  expectEqual(call, 'user', expectData(call, reread, 200), {
    name: 'Dana Scully',
    email: 'dana@example.com',
  });
  expectEqual(call, 'ETag', userETag(call, reread.response), changedETag);

  call = 'PATCH /users/{id} with the old ETag';
  expectProblem(
    call,
    await users.PATCH('/users/{id}', {
      params: { path: { id }, header: { 'If-Match': etag } },
      headers: { 'Content-Type': MERGE_PATCH },
      body: { name: 'Dana Lost' },
    }),
    {
      status: 412,
      title: 'Precondition Failed',
      detail: `User ${id} has changed since that ETag; GET it again and retry`,
    },
  );

  call = 'PATCH /users/{id} without If-Match';
  const unconditional = await users.PATCH('/users/{id}', {
    // @ts-expect-error The document requires If-Match: the generated client refuses a patch without it.
    params: { path: { id } },
    headers: { 'Content-Type': MERGE_PATCH },
    body: { name: 'Dana Lost' },
  });
  expectProblem(call, unconditional, {
    status: 428,
    title: 'Precondition Required',
    detail:
      'This change needs If-Match with the ETag of the version it changes; GET it first',
  });

  call = "PATCH /users/{id} to Alice's email";
  expectProblem(
    call,
    await users.PATCH('/users/{id}', {
      params: { path: { id }, header: { 'If-Match': changedETag } },
      headers: { 'Content-Type': MERGE_PATCH },
      body: { email: 'Alice@Example.com' },
    }),
    {
      status: 409,
      title: 'Conflict',
      detail: 'A user with email Alice@Example.com already exists',
    },
  );

  // The document says a patch names at least one member (minProperties), which TypeScript types
  // cannot say: PatchUser has only optional members, so {} compiles, and the service refuses it.
  call = 'PATCH /users/{id} with an empty patch';
  expectProblem(
    call,
    await users.PATCH('/users/{id}', {
      params: { path: { id }, header: { 'If-Match': changedETag } },
      headers: { 'Content-Type': MERGE_PATCH },
      body: {},
    }),
    {
      status: 400,
      title: 'Bad Request',
      detail: 'The patch changes nothing: give name, email or both',
    },
  );

  // An order for Dana shows her as users knows her now; once she is erased, user is null.
  call = 'POST /orders for the user';
  const { order_id: orderId } = expectData(
    call,
    await orders.POST('/orders', {
      body: { user_id: id, product: 'Headphones' },
    }),
    201,
  );
  call = 'GET /orders/{id}';
  const order: Order = expectData(
    call,
    await orders.GET('/orders/{id}', { params: { path: { id: orderId } } }),
    200,
  );
  if (order.user === null) fail(call, 'user is null while the user exists');
  expectEqual(call, 'user.name', order.user.name, 'Dana Scully');

  call = 'DELETE /users/{id} with If-Match';
  const erased = await users.DELETE('/users/{id}', {
    params: { path: { id }, header: { 'If-Match': changedETag } },
  });
  expectEqual(call, 'status', erased.response.status, 204);
  expectEqual(call, 'data', erased.data, undefined);

  call = 'GET /users/{id} once erased';
  expectProblem(
    call,
    await users.GET('/users/{id}', { params: { path: { id } } }),
    { status: 404, title: 'Not Found', detail: `User ${id} not found` },
  );

  call = 'GET /orders/{id} once its user is erased';
  const orphan: Order = expectData(
    call,
    await orders.GET('/orders/{id}', { params: { path: { id: orderId } } }),
    200,
  );
  // Typed as Order: the document says user is nullable.
  const forgotten: Order = { user_id: id, product: 'Headphones', user: null };
  expectEqual(call, 'order', orphan, forgotten);
}

async function problems(): Promise<void> {
  let call = 'POST /users with a blank name and a wrong email';
  const invalid = expectProblem(
    call,
    await users.POST('/users', { body: { name: '', email: 'not-an-email' } }),
    {
      status: 400,
      title: 'Bad Request',
      detail:
        'Invalid request: name should not be empty; email must be an email',
      errors: [
        { field: 'name', message: 'name should not be empty' },
        { field: 'email', message: 'email must be an email' },
      ],
    },
  );
  // What a form shows next to each field.
  const byField = new Map(
    (invalid.errors ?? []).map((e) => [e.field, e.message]),
  );
  expectEqual(
    call,
    'the email field',
    byField.get('email'),
    'email must be an email',
  );

  call = 'GET /users/999';
  expectProblem(
    call,
    await users.GET('/users/{id}', { params: { path: { id: 999 } } }),
    { status: 404, title: 'Not Found', detail: 'User 999 not found' },
  );

  call = 'GET /orders/999';
  expectProblem(
    call,
    await orders.GET('/orders/{id}', { params: { path: { id: 999 } } }),
    { status: 404, title: 'Not Found', detail: 'Order 999 not found' },
  );

  call = "POST /users with Alice's email, other case";
  expectProblem(
    call,
    await users.POST('/users', {
      body: { name: 'Alice Again', email: 'ALICE@example.com' },
    }),
    {
      status: 409,
      title: 'Conflict',
      detail: 'A user with email ALICE@example.com already exists',
    },
  );

  call = 'POST /orders for an unknown user';
  expectProblem(
    call,
    await orders.POST('/orders', { body: { user_id: 999, product: 'Ghost' } }),
    {
      status: 422,
      title: 'Unprocessable Entity',
      detail: 'User 999 does not exist',
      errors: [{ field: 'user_id', message: 'user 999 does not exist' }],
    },
  );
}

try {
  await seedCalls();
  await operations();
  await lists();
  await userLifecycle();
  await problems();
  console.log(`flow: every answer as expected (${checks} checks)`);
} catch (error) {
  console.error(
    error instanceof FlowMismatch ? `flow: ${error.message}` : error,
  );
  process.exitCode = 1;
}
