export default async function teardown(): Promise<void> {
  const cluster = (globalThis as Record<string, unknown>).testCluster as
    { stop(): Promise<void> } | undefined;
  await cluster?.stop();
}
