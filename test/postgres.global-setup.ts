// One throwaway PostgreSQL cluster for the whole run, unless TEST_DATABASE_URL names a server.
// Each suite creates its own database on it. Without PostgreSQL binaries the suites that need a
// database fail at once with the reason; the others run.
const { startCluster } = require('../scripts/postgres-cluster.cjs');

export default async function setup(): Promise<void> {
  if (process.env.TEST_DATABASE_URL) return;
  try {
    const cluster = await startCluster();
    (globalThis as Record<string, unknown>).testCluster = cluster;
    process.env.TEST_DATABASE_URL = cluster.url;
  } catch (error) {
    process.env.TEST_DATABASE_UNAVAILABLE = (error as Error).message;
  }
}
