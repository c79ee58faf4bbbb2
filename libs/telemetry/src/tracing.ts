import { installContextPropagation } from './trace-context';

/**
 * Whether spans leave the process: a collector is named and the SDK is not disabled. Only then
 * is a span worth its cost; without it, requests still continue or start a W3C trace, log its id
 * and pass it on (see requestTraceContext).
 */
export function exportsTraces(env: NodeJS.ProcessEnv = process.env): boolean {
  return (
    env.OTEL_SDK_DISABLED?.trim().toLowerCase() !== 'true' &&
    Boolean(
      env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    )
  );
}

let stop: () => Promise<void> = async () => undefined;

/**
 * Call before anything loads http, express or Nest: see each app's tracing.ts. With an exporter,
 * the OpenTelemetry SDK and its instrumentations; without one, only what carries a trace through
 * the process and on to users: the context manager and the W3C propagator. The SDK is loaded only
 * when used, so a process that exports nothing does not pay its memory or start-up time either.
 */
export function startTracing(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
): void {
  if (exportsTraces(env)) {
    const { startSdk } = require('./sdk') as typeof import('./sdk');
    stop = startSdk(serviceName);
    return;
  }
  installContextPropagation();
}

/**
 * Flushes spans not yet exported; the last step of a shutdown. A collector that is gone must not
 * turn a clean shutdown into a failed one: the spans are lost either way, and the process says so.
 */
export async function stopTracing(): Promise<void> {
  try {
    await stop();
  } catch (error) {
    process.stderr.write(
      `Spans not exported at shutdown: ${error instanceof Error ? error.message : String(error)}\n`,
    );
  }
}
