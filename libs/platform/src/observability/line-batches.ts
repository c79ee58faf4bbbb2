import pino from 'pino';

type Destination = ReturnType<typeof pino.destination>;

/** A batch is written once it holds this much: about fifteen request lines a system call. */
const BATCH_BYTES = 4096;
/** And at the latest this long after its first line, so a quiet service's lines are not held. */
const BATCH_MS = 25;

/** Every batch of the process (one a logger, so one an app), written out as the process exits. */
const open = new Set<LineBatches>();
let exitHookInstalled = false;

/**
 * Standard output written in batches: a write system call every few kilobytes rather than one
 * per line (synchronous writes were most of a request line's cost). sonic-boom holds the lines;
 * this writes them when the batch is full, `BATCH_MS` after its first line, and as the process
 * exits. Node emits `exit` for `process.exit` (our SIGTERM shutdown ends with it) and after an
 * uncaught exception, so the last lines before either are on disk; only SIGKILL loses a batch.
 * pino's own exit hook is for its asynchronous writes, which could leave one write in flight.
 */
export class LineBatches {
  private readonly destination: Destination = pino.destination({
    dest: 1,
    sync: true,
    minLength: BATCH_BYTES,
  });
  private timer: NodeJS.Timeout | undefined;

  constructor() {
    open.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => {
        for (const batches of open) batches.flushNow();
      });
    }
  }

  /** pino's stream interface: one serialized line. */
  write(line: string): void {
    this.destination.write(line);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.destination.flush();
    }, BATCH_MS).unref();
  }

  /** Writes what is held, before this returns. */
  flushNow(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.destination.flushSync();
  }
}
