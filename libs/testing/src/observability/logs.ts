import { ConsoleLogger, Logger } from '@nestjs/common';

/** The JSON lines a process logged, parsed; other lines (a crash trace, say) are skipped. */
export function jsonLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A line a class wrote through Nest's `Logger`: the message, and the context it logged under. */
export type LoggedLine = [message: unknown, context: unknown];

/**
 * Records what classes log through Nest's static `Logger` (`new Logger(Context)`), by level, until
 * `stop()` puts the console logger back: what an operator would read, for a spec to hold.
 */
export function recordLogs(): {
  log: LoggedLine[];
  warn: LoggedLine[];
  stop(): void;
} {
  const recorded = { log: [] as LoggedLine[], warn: [] as LoggedLine[] };
  Logger.overrideLogger({
    log: (message: unknown, context: unknown) =>
      recorded.log.push([message, context]),
    warn: (message: unknown, context: unknown) =>
      recorded.warn.push([message, context]),
    error: () => undefined,
  });
  return {
    ...recorded,
    stop: () => Logger.overrideLogger(new ConsoleLogger()),
  };
}

/**
 * Fakes `setInterval` and `clearInterval` only, so that a sweep or a purge runs on the test's
 * clock while HTTP, database I/O and their own timers stay real.
 */
export function fakeIntervalsOnly(): void {
  jest.useFakeTimers({
    doNotFake: [
      'Date',
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'setImmediate',
      'clearImmediate',
      'setTimeout',
      'clearTimeout',
    ],
  });
}
