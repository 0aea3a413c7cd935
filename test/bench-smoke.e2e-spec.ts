import { runOverheadBenchmark } from '../bench/overhead/index.js';
import { runReservationBenchmark, toMarkdown } from '../bench/reservations.bench.js';
import { stormMarkdown } from '../bench/storm/report.js';
import { runStormBenchmark } from '../bench/storm/index.js';

/** Tiny runs of the benchmarks, so that they never rot: well-formed figures, not fast ones. */
describe('benchmarks (smoke)', () => {
  it('reservations: measures every SQLite store and renders a table', async () => {
    const results = await runReservationBenchmark({ operations: 20, runs: 1, concurrencies: [1, 4] });
    expect(results.map((r) => [r.store, r.concurrency])).toEqual([
      ['sqlite-memory', 1],
      ['sqlite-memory', 4],
      ['sqlite-file', 1],
      ['sqlite-file', 4],
    ]);
    for (const result of results) expect(result.medianOpsPerSec).toBeGreaterThan(0);
    expect(toMarkdown(results)).toMatch(/^\| store \| concurrency \|/);
  });

  it('storm: every strategy through the scaled scenarios, rows with exactly the documented keys', async () => {
    const runs = await runStormBenchmark({ scale: 0.02, requests: 8, scenarios: ['b', 'c', 'd'] });
    expect(runs).toHaveLength(3 * 10);
    for (const { row } of runs) {
      const keys = ['amplification', 'costUsd', 'meanMs', 'overshootUsd', 'p50Ms', 'p99Ms', 'requests', 'retryWastePct', 'scenario', 'strategy', 'successRate', 'tokenWastePct'];
      // (b) also reports attempts per request during its outage.
      expect(Object.keys(row).sort()).toEqual([...keys, ...(row.scenario.startsWith('(b)') ? ['outageAmplification'] : [])].sort());
      expect(row.requests).toBe(8);
      expect(row.successRate).toBeGreaterThanOrEqual(0);
      expect(row.successRate).toBeLessThanOrEqual(100);
      expect(Number.isFinite(row.p99Ms) && Number.isFinite(row.amplification) && Number.isFinite(row.costUsd)).toBe(true);
    }
    expect(stormMarkdown(runs)).toContain('### (d) outage with a dollar budget');
  }, 60_000);

  it('overhead: unguarded and guarded over loopback HTTP with autocannon', async () => {
    const rows = await runOverheadBenchmark({ seconds: 1, connections: 2, rounds: 1, limit: 2 });
    expect(rows.map((row) => row.config)).toEqual(['unguarded (bare openai SDK)', '@Guarded, tracing off']);
    for (const row of rows) {
      expect(row.requestsPerSec).toBeGreaterThan(0);
      expect(row.requestsPerSecByRound).toHaveLength(1);
      expect(row.non2xx).toBe(0);
      expect(row.errors).toBe(0);
    }
    expect(rows[0].ratioToUnguarded).toBe(1);
  }, 60_000);
});
