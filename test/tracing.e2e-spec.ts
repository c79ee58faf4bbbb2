import {
  BuiltApp,
  eventually,
  freePort,
  jsonLines,
  refusedUrl,
  startBuiltApp,
  StandInServer,
} from '@app/testing';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT_SPAN_ID = 'b7ad6b7169203331';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`;

/** Plays the users app: Alice is user 1. */
async function startUsers(): Promise<StandInServer> {
  return StandInServer.start((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"name":"Alice","email":"alice@example.com"}');
  });
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}

/** An OTLP/HTTP collector that keeps the JSON spans it is sent, by instrumentation scope. */
async function startCollector() {
  const spans: (OtlpSpan & { scope: string; service?: string })[] = [];
  const collector = await StandInServer.start((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      for (const resource of JSON.parse(body).resourceSpans) {
        const service = resource.resource.attributes.find(
          (a: { key: string }) => a.key === 'service.name',
        )?.value.stringValue;
        for (const scoped of resource.scopeSpans) {
          for (const span of scoped.spans)
            spans.push({ ...span, scope: scoped.scope.name, service });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  return { collector, spans };
}

describe('W3C trace context across the hop (built orders app, real process)', () => {
  let orders: BuiltApp | undefined;
  let users: StandInServer | undefined;
  let collector: StandInServer | undefined;

  afterEach(async () => {
    await orders?.stop();
    await users?.close();
    await collector?.close();
    orders = users = collector = undefined;
  });

  async function startOrders(
    env: Record<string, string> = {},
  ): Promise<BuiltApp> {
    const port = await freePort();
    return (orders = await startBuiltApp('orders', port, {
      ORDERS_PORT: String(port),
      USERS_SERVICE_URL: users!.url,
      ...env,
    }));
  }

  it('continues an incoming traceparent on the call to users, as a child span', async () => {
    users = await startUsers();
    await startOrders();
    const response = await fetch(`${orders!.url}/orders/1`, {
      headers: { traceparent: TRACEPARENT },
    });
    expect(response.status).toBe(200);
    const sent = users.requests[0].headers.traceparent as string;
    expect(sent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    expect(sent.split('-')[2]).not.toBe(PARENT_SPAN_ID);
  });

  it('starts a trace when none comes in, and logs its id on the request line', async () => {
    users = await startUsers();
    await startOrders();
    const response = await fetch(`${orders!.url}/orders/1`, {
      headers: { 'x-request-id': 'trace-log-1' },
    });
    expect(response.status).toBe(200);
    const traceId = (users.requests[0].headers.traceparent as string).split(
      '-',
    )[1];
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    // Lines leave in batches, at the latest 25 ms after they are logged.
    await eventually(
      () => orders!.output(),
      (output) => output.includes('"request_id":"trace-log-1"'),
      'the request line',
    );
    const line = jsonLines(orders!.output()).find(
      (l) => l.request_id === 'trace-log-1',
    );
    expect(line).toMatchObject({ msg: 'request completed', trace_id: traceId });
  });

  it('exports nothing and fails nothing without OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
    users = await startUsers();
    await startOrders();
    const response = await fetch(`${orders!.url}/orders/1`, {
      headers: { traceparent: TRACEPARENT },
    });
    expect(response.status).toBe(200);
    await orders!.stop();
    await expect(orders!.exited).resolves.toBe(0);
    expect(orders!.output()).not.toMatch(/otlp|export/i);
  });

  it('still stops cleanly, exit 0, when the collector is gone at shutdown, saying its spans were lost', async () => {
    users = await startUsers();
    await startOrders({
      OTEL_EXPORTER_OTLP_ENDPOINT: await refusedUrl(),
      OTEL_BSP_SCHEDULE_DELAY: '60000',
      OTEL_EXPORTER_OTLP_TIMEOUT: '500',
    });
    expect((await fetch(`${orders!.url}/orders/1`)).status).toBe(200);
    await expect(orders!.stop()).resolves.toBe(0);
    expect(orders!.output()).toContain('Spans not exported at shutdown');
  });

  it('exports HTTP, Express and NestJS spans of the trace over OTLP when the endpoint is set', async () => {
    users = await startUsers();
    const otlp = await startCollector();
    collector = otlp.collector;
    await startOrders({
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
    const response = await fetch(`${orders!.url}/orders/1`, {
      headers: { traceparent: TRACEPARENT },
    });
    expect(response.status).toBe(200);
    // Stopping flushes whatever the batch processor still holds.
    await orders!.stop();

    const trace = otlp.spans.filter((s) => s.traceId === TRACE_ID);
    const byScope = (scope: string) =>
      trace.filter((s) => s.scope.endsWith(scope)).map((s) => s.name);
    expect(byScope('instrumentation-http')).toEqual(['GET /orders/:id']);
    // The call to users: a client span, whose id is the parent users is sent.
    expect(byScope('instrumentation-undici')).toEqual(['GET']);
    const client = trace.find((s) =>
      s.scope.endsWith('instrumentation-undici'),
    )!;
    expect(users!.requests[0].headers.traceparent).toBe(
      `00-${TRACE_ID}-${client.spanId}-01`,
    );
    // Express: the route's handler only, no span per middleware layer.
    expect(byScope('instrumentation-express')).toEqual(['request handler']);
    expect(byScope('instrumentation-nestjs-core')).toEqual(
      expect.arrayContaining(['OrdersController.get']),
    );
    expect(new Set(trace.map((s) => s.service))).toEqual(new Set(['orders']));
    // The server span is the child of the caller's span.
    const server = trace.find((s) => s.name === 'GET /orders/:id')!;
    expect(server.parentSpanId).toBe(PARENT_SPAN_ID);
  });
});
