import { Database } from '@app/storage';
import { parsePrometheusText, sampleValue } from '@app/testing';
import { Registry } from 'prom-client';
import { DatabaseMetrics } from './database-metrics';

describe('DatabaseMetrics', () => {
  // A database whose answers the test sets: a lost one is a fault no real request can make on cue.
  function fakeDatabase(up: boolean): Pick<Database, 'status' | 'pool'> {
    return {
      status: async () => ({ up, detail: up ? 'connected' : 'gone' }),
      pool: { used: 3, idle: 2, waiting: 1, max: 10 },
    };
  }

  async function scrape(database?: Pick<Database, 'status' | 'pool'>) {
    const registry = new Registry();
    new DatabaseMetrics(registry, database);
    return parsePrometheusText(await registry.metrics());
  }

  it.each([
    [true, 1],
    [false, 0],
  ])('says database_up %p as %p, asked at the scrape', async (up, value) => {
    expect(sampleValue(await scrape(fakeDatabase(up)), 'database_up')).toBe(
      value,
    );
  });

  it('shows the pool: used, idle and waiting connections, and the most it opens', async () => {
    const samples = await scrape(fakeDatabase(true));
    const connections = (state: string) =>
      sampleValue(samples, 'database_pool_connections', { state });
    expect([
      connections('used'),
      connections('idle'),
      connections('waiting'),
      sampleValue(samples, 'database_pool_max'),
    ]).toEqual([3, 2, 1, 10]);
  });

  it('registers nothing without a database', async () => {
    await expect(scrape()).resolves.toEqual([]);
  });
});
