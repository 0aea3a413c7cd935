import { runReservationBenchmark, toMarkdown } from '../bench/reservations.bench.js';

/** A tiny run of the benchmarks, so that they never rot: well-formed figures, not fast ones. */
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
});
