// Types of postgres-cluster.cjs, for the TypeScript that starts a throwaway cluster.
export interface Cluster {
  /** The superuser's URL, database `postgres`. */
  url: string;
  port: number;
  dataDir: string;
  pid: number;
  /** A fast shutdown; the data stays when the cluster was started on a given `dir`. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}
export declare function startCluster(options?: {
  /** Kept and reused when given; a new temp dir otherwise. */
  dir?: string;
  port?: number;
  /** fsync, synchronous_commit and full_page_writes on; the default when `dir` is given. */
  durable?: boolean;
  /** More `-c` settings of the server. */
  settings?: Record<string, string | number>;
}): Promise<Cluster>;
export declare function databaseUrl(serverUrl: string, name: string): string;
export declare const MISSING: string;
