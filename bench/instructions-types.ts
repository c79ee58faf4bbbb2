// The options and figures of bench/instructions.ts, shared by its modules.

export interface InstructionsOptions {
  quick: boolean;
  /** Requests sent to each route as a warm-up, then counted in each of its windows. */
  warmup: number;
  requests: number;
  windows: number;
  /** Only these targets and switched variants, by key (`project`, `project-log_level`). */
  only: string[];
  /** Only these routes, by key (`get-user`, `post-user`, ...); all when empty. */
  routes: string[];
  /** Keeps callgrind's files (for callgrind_annotate) instead of removing them. */
  keep: boolean;
}

/** Instructions per request of one route: the process answering it, and users behind orders. */
export interface Measured {
  /** The main thread, where requests run: the median window's instructions per request. */
  own: number;
  /** V8's helper threads of the same process (compiling and collecting in the background). */
  helpers: number;
  users?: number;
  failed: number;
}

export interface InstructionsResult {
  options: InstructionsOptions;
  valgrind: string;
  /** By target name (the project's switched variants included), then route key. */
  figures: Map<string, Map<string, Measured>>;
}
