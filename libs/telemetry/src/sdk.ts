import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  ExpressInstrumentation,
  ExpressLayerType,
} from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import type { InstrumentationBase } from '@opentelemetry/instrumentation';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { clientsInstrumented } from './trace-context';
import { NestInstrumentation } from '@opentelemetry/instrumentation-nestjs-core';
import { instrumentBundledModules } from './bundled-modules';

type SdkConfiguration = NonNullable<ConstructorParameters<typeof NodeSDK>[0]>;

/**
 * The Node SDK with the HTTP, Express, NestJS and undici instrumentations, exporting over OTLP/HTTP (the
 * exporter reads the OTEL_EXPORTER_* variables itself, the SDK the OTEL_TRACES_SAMPLER ones).
 * Express gets spans for its request handlers only: a span per middleware layer would cost every
 * request more than its handler, and say nothing the server span does not.
 */
export function tracingConfiguration(serviceName: string): SdkConfiguration {
  return {
    serviceName,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) =>
          /^\/(health|metrics)\b/.test(request.url ?? ''),
      }),
      new ExpressInstrumentation({
        ignoreLayersType: [
          ExpressLayerType.MIDDLEWARE,
          ExpressLayerType.ROUTER,
        ],
      }),
      new NestInstrumentation(),
      // Orders calls users over undici: its client spans, and the traceparent they send.
      new UndiciInstrumentation(),
    ],
    traceExporter: new OTLPTraceExporter(),
    // Traces only: no OTel metrics (Prometheus has them) and no OTel log export (pino has them).
    metricReaders: [],
    logRecordProcessors: [],
  };
}

/**
 * Starts the SDK; returns what flushes and stops it. Loaded with require() by startTracing only
 * when traces are exported.
 * @public
 */
export function startSdk(serviceName: string): () => Promise<void> {
  const configuration = tracingConfiguration(serviceName);
  const sdk = new NodeSDK(configuration);
  sdk.start();
  instrumentBundledModules(
    configuration.instrumentations!.flat() as InstrumentationBase[],
  );
  clientsInstrumented();
  return () => sdk.shutdown();
}
