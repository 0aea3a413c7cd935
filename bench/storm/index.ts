import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resilientLlmStrategy } from './module-strategy.js';
import { stormHtml, stormMarkdown } from './report.js';
import { type StormRun, runScenario } from './run-storm.js';
import { RemoteUpstream } from './remote-upstream.js';
import { SCENARIOS, type Scenario } from './scenarios.js';
import { PEER_STRATEGIES, type Strategy } from './strategies.js';

export interface StormOptions {
  /** Durations are multiplied by this (and latencies divided by it): 0.1 runs ten times faster. */
  scale: number;
  requests: number;
  /** Scenario ids to run ('a'..'d'); all by default. */
  scenarios?: string[];
  /** Writes bench/results/storm.{json,md,html} when given. */
  outDir?: string;
  progress?: (done: number, total: number, label: string) => void;
}

export async function runStormBenchmark(options: StormOptions): Promise<StormRun[]> {
  const scenarios = SCENARIOS.filter((scenario) => !options.scenarios || options.scenarios.includes(scenario.id));
  const runs: StormRun[] = [];
  const total = scenarios.length * (PEER_STRATEGIES.length + 1);
  const upstream = await RemoteUpstream.start();
  try {
    // Strategy by strategy, this module's last: its first guarded call turns on Node's
    // async-context hooks for the rest of the process, and no peer should pay for them.
    const strategies: Array<(scenario: Scenario) => Strategy> = [...PEER_STRATEGIES.map((strategy) => () => strategy), (scenario) => resilientLlmStrategy(scenario.budgetUsd)];
    for (const strategyFor of strategies) {
      for (const scenario of scenarios) {
        const strategy = strategyFor(scenario);
        options.progress?.(runs.length, total, `(${scenario.id}) ${strategy.name}`);
        runs.push(await runScenario(scenario, strategy, upstream, { scale: options.scale, requests: options.requests }));
      }
    }
  } finally {
    await upstream.stop();
  }
  // Reported scenario by scenario (a stable sort keeps the strategies in their order).
  runs.sort((a, b) => a.row.scenario.localeCompare(b.row.scenario));
  options.progress?.(total, total, 'done');
  if (options.outDir) {
    const rows = runs.map((run) => run.row);
    const meta = { measuredAt: new Date().toISOString(), scale: options.scale, node: process.version };
    await mkdir(options.outDir, { recursive: true });
    await writeFile(join(options.outDir, 'storm.json'), `${JSON.stringify(rows, null, 2)}\n`);
    await writeFile(
      join(options.outDir, 'storm.md'),
      `# Retry-storm benchmark\n\nMeasured ${meta.measuredAt} on this machine (Node ${meta.node}), time scale ${meta.scale}; figures are unscaled.\n\n${stormMarkdown(runs)}`,
    );
    await writeFile(join(options.outDir, 'storm.html'), stormHtml(runs, meta));
  }
  return runs;
}

/** A one-line progress bar on stderr. */
export function progressBar(done: number, total: number, label: string): void {
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label.padEnd(48).slice(0, 48)}`);
  if (done === total) process.stderr.write('\n');
}
