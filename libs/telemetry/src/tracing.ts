import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { NoopSpanProcessor } from '@opentelemetry/sdk-trace';
import {
  Nest12Instrumentation,
  requireInstrumentedModules,
} from './nest-instrumentation';

let sdk: NodeSDK | undefined;

export function startTracing(serviceName: string, env = process.env): void {
  const exporting = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  sdk = new NodeSDK({
    serviceName,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) =>
          /^\/(health|metrics)\b/.test(request.url ?? ''),
      }),
      new ExpressInstrumentation(),
      new Nest12Instrumentation(),
    ],
    ...(exporting
      ? { traceExporter: new OTLPTraceExporter() }
      : { spanProcessors: [new NoopSpanProcessor()] }),
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  requireInstrumentedModules();
}

export async function stopTracing(): Promise<void> {
  await sdk?.shutdown();
}
