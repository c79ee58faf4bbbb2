import {
  context,
  createContextKey,
  propagation,
  trace,
} from '@opentelemetry/api';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import {
  injectTraceContext,
  installContextPropagation,
  requestTraceContext,
} from './trace-context';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const CALLER_SPAN = 'b7ad6b7169203331';

describe('trace context without an SDK', () => {
  beforeAll(() => installContextPropagation());

  afterAll(() => {
    context.disable();
    propagation.disable();
  });

  /** What a call to another service made inside the request would send. */
  function outgoing(headers: IncomingHttpHeaders): string {
    const sent: OutgoingHttpHeaders = {};
    context.with(requestTraceContext(headers), () => injectTraceContext(sent));
    return String(sent.traceparent);
  }

  it("continues the caller's trace with a span id of its own, keeping its flags", () => {
    for (const flags of ['01', '00']) {
      const [, traceId, spanId, sentFlags] = outgoing({
        traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-${flags}`,
      }).split('-');
      expect([traceId, sentFlags]).toEqual([TRACE_ID, flags]);
      expect(spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(spanId).not.toBe(CALLER_SPAN);
    }
  });

  it('starts a new, unsampled trace without a valid traceparent', () => {
    for (const headers of [{}, { traceparent: 'garbage' }]) {
      const first = outgoing(headers);
      const second = outgoing(headers);
      expect(first).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
      expect(first.split('-')[1]).not.toBe(second.split('-')[1]);
    }
  });

  it('keeps the context through awaits in the request', async () => {
    const seen = await context.with(
      requestTraceContext({
        traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01`,
      }),
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return trace.getActiveSpan()?.spanContext().traceId;
      },
    );
    expect(seen).toBe(TRACE_ID);
  });

  it('leaves a request alone that an SDK instrumentation already traces', () => {
    const span = trace.wrapSpanContext({
      traceId: TRACE_ID,
      spanId: CALLER_SPAN,
      traceFlags: 1,
    });
    const traced = context.with(trace.setSpan(context.active(), span), () =>
      requestTraceContext({}),
    );
    expect(trace.getSpan(traced)).toBe(span);
  });

  it('installs once: a second call keeps the context manager in place', () => {
    const key = createContextKey('test');
    const inner = context.with(context.active().setValue(key, 'kept'), () => {
      installContextPropagation();
      return context.active().getValue(key);
    });
    expect(inner).toBe('kept');
  });
});
