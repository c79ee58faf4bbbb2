// Imported first by main.ts: instrumentation must be in place before http, express and Nest load.
import { startTracing } from '@app/telemetry';

startTracing('users');
