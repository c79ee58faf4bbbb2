import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NoopSpanProcessor } from '@opentelemetry/sdk-trace';
import { dirname } from 'node:path';
import { tracingConfiguration } from './tracing';

describe('tracingConfiguration', () => {
  it('exports nothing without OTEL_EXPORTER_OTLP_ENDPOINT, but still records trace ids', () => {
    const config = tracingConfiguration('users', {});
    expect(config.traceExporter).toBeUndefined();
    expect(config.spanProcessors).toEqual([expect.any(NoopSpanProcessor)]);
    expect(config.metricReaders).toEqual([]);
    expect(config.logRecordProcessors).toEqual([]);
  });

  it('exports over OTLP/HTTP when the endpoint is set', () => {
    const config = tracingConfiguration('orders', {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
    });
    expect(config.traceExporter).toBeInstanceOf(OTLPTraceExporter);
    expect(config.spanProcessors).toBeUndefined();
    expect(config.serviceName).toBe('orders');
  });

  it('instruments HTTP, Express and NestJS, the last for NestJS 12', () => {
    const names = tracingConfiguration('users', {})
      .instrumentations!.flat()
      .map((i) => (i as { instrumentationName: string }).instrumentationName);
    expect(names).toEqual([
      '@opentelemetry/instrumentation-http',
      '@opentelemetry/instrumentation-express',
      '@opentelemetry/instrumentation-nestjs-core',
    ]);
  });

  it('patches the one express that Nest uses', () => {
    // The app requires express itself so the instrumentation sees it; a second copy under
    // @nestjs/platform-express would go unpatched.
    const nestExpress = require.resolve('express', {
      paths: [dirname(require.resolve('@nestjs/platform-express'))],
    });
    expect(require.resolve('express')).toBe(nestExpress);
  });
});
