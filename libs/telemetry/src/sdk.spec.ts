import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { dirname } from 'node:path';
import { tracingConfiguration } from './sdk';

describe('tracingConfiguration (when spans are exported)', () => {
  it('exports over OTLP/HTTP, traces only', () => {
    const config = tracingConfiguration('orders');
    expect(config.traceExporter).toBeInstanceOf(OTLPTraceExporter);
    expect(config.serviceName).toBe('orders');
    expect(config.metricReaders).toEqual([]);
    expect(config.logRecordProcessors).toEqual([]);
  });

  it('instruments HTTP, Express, NestJS (for NestJS 12) and undici', () => {
    const names = tracingConfiguration('users')
      .instrumentations!.flat()
      .map((i) => (i as { instrumentationName: string }).instrumentationName);
    expect(names).toEqual([
      '@opentelemetry/instrumentation-http',
      '@opentelemetry/instrumentation-express',
      '@opentelemetry/instrumentation-nestjs-core',
      '@opentelemetry/instrumentation-undici',
    ]);
  });

  it('makes no span per Express middleware or router, only per request handler', () => {
    const express = tracingConfiguration(
      'users',
    ).instrumentations!.flat()[1] as {
      getConfig(): { ignoreLayersType?: string[] };
    };
    expect(express.getConfig().ignoreLayersType).toEqual([
      'middleware',
      'router',
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
