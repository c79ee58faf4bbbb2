import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { NoopSpanProcessor } from '@opentelemetry/sdk-trace';
import {
  Nest12Instrumentation,
  requireInstrumentedModules,
} from './nest-instrumentation';

type SdkConfiguration = NonNullable<ConstructorParameters<typeof NodeSDK>[0]>;

/**
 * The Node SDK with the HTTP, Express and NestJS instrumentations. Spans leave the process only
 * when OTEL_EXPORTER_OTLP_ENDPOINT names a collector (the exporter reads the other OTEL_EXPORTER_*
 * variables itself); without one, a no-op processor still gives every request a real trace id,
 * which the logs carry and the call to users propagates.
 */
export function tracingConfiguration(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
): SdkConfiguration {
  return {
    serviceName,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) =>
          /^\/(health|metrics)\b/.test(request.url ?? ''),
      }),
      new ExpressInstrumentation(),
      new Nest12Instrumentation(),
    ],
    ...(env.OTEL_EXPORTER_OTLP_ENDPOINT
      ? { traceExporter: new OTLPTraceExporter() }
      : { spanProcessors: [new NoopSpanProcessor()] }),
    // Traces only: no OTel metrics (Prometheus has them) and no OTel log export (pino has them).
    metricReaders: [],
    logRecordProcessors: [],
  };
}

let sdk: NodeSDK | undefined;

/** Call before anything loads http, express or Nest: see each app's tracing.ts. */
export function startTracing(serviceName: string): void {
  sdk = new NodeSDK(tracingConfiguration(serviceName));
  sdk.start();
  requireInstrumentedModules();
}

/** Flushes spans not yet exported; the last step of a shutdown. */
export async function stopTracing(): Promise<void> {
  await sdk?.shutdown();
}
