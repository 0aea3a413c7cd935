import { join } from 'node:path';
import { acceptanceMarkdown } from './storm/acceptance.js';
import { stormMarkdown } from './storm/report.js';
import { progressBar, runStormBenchmark } from './storm/index.js';

// `npm run bench:storm`: every strategy through every scenario, BENCH_ROUNDS times (medians reported),
// written to bench/results/storm.*
it('retry-storm benchmark', async () => {
  const runs = await runStormBenchmark({
    scale: Number(process.env.BENCH_TIME_SCALE ?? 0.1),
    requests: Number(process.env.BENCH_REQUESTS ?? 1_000),
    rounds: Number(process.env.BENCH_ROUNDS ?? 3),
    minScales: true,
    scenarios: process.env.BENCH_SCENARIOS?.split(','),
    strategies: process.env.BENCH_STRATEGIES?.split(','),
    outDir: join(import.meta.dirname, 'results'),
    progress: progressBar,
  });
  console.log(`\n${stormMarkdown(runs)}\n${acceptanceMarkdown(runs)}`);
  console.log('Written to bench/results/storm.json, storm.md and storm.html');
});
