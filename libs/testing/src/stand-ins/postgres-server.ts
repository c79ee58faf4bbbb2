import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { eventually } from '../app/eventually';
import {
  type Cluster,
  startCluster,
} from '../../../../scripts/postgres-cluster.cjs';

export interface PostgresServer {
  /** The superuser's URL; `createTestDatabase(server.url)` makes a database on it. */
  url: string;
  /**
   * Stops the server (a fast shutdown: sessions are ended, as in a real restart), keeps it down
   * for at least `downMs`, and starts it again on the same port and data. Resolves once it
   * accepts connections again, with when it stopped and when it was back (`Date.now()` times).
   */
  restart(downMs: number): Promise<{ stoppedAt: number; backAt: number }>;
  /** Stops it and deletes its data. */
  stop(): Promise<void>;
}

/**
 * A PostgreSQL server of a suite's own, for a suite that restarts it: the shared test server
 * (TEST_DATABASE_URL) serves suites running beside it, which a restart would break.
 */
export async function startPostgresServer(): Promise<PostgresServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pg-own-'));
  // Throwaway data, kept only across its restarts: as fast as the shared test server.
  let cluster: Cluster = await startCluster({ dir: dataDir, durable: false });
  const { url, port } = cluster;
  // The port opens while the server still refuses sessions ("starting up").
  const accepting = () =>
    eventually(
      () => {
        const client = new Client({ connectionString: url });
        return client
          .connect()
          .then(() => client.end())
          .then(
            () => true,
            () => false,
          );
      },
      Boolean,
      'PostgreSQL to accept sessions',
      { limitMs: 30_000, everyMs: 10 },
    );
  await accepting();
  return {
    url,
    async restart(downMs) {
      const stoppedAt = Date.now();
      await cluster.stop({ keepData: true });
      // Stopping may itself take longer than downMs on a busy machine.
      await sleep(Math.max(0, stoppedAt + downMs - Date.now()));
      cluster = await startCluster({ dir: dataDir, port, durable: false });
      await accepting();
      return { stoppedAt, backAt: Date.now() };
    },
    async stop() {
      await cluster.stop({ keepData: false });
    },
  };
}
