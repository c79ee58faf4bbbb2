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
  dir?: string;
  port?: number;
}): Promise<Cluster>;
export declare function databaseUrl(serverUrl: string, name: string): string;
export declare const MISSING: string;
