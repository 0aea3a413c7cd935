import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { acceptanceMarkdown } from './acceptance.js';
import { fleetStrategy } from './fleet-strategy.js';
import { resilientLlmStrategy } from './module-strategy.js';
import { stormHtml, stormMarkdown } from './report.js';
import { medianRun } from './rounds.js';
import { type StormRun, runScenario, scaleOf } from './run-storm.js';
import { RemoteUpstream } from './remote-upstream.js';
import { SCENARIOS, type Scenario } from './scenarios.js';
import { scenarioLabel } from './storm-figures.js';
import { PEER_STRATEGIES, type Strategy } from './strategies.js';

export interface StormOptions {
  /** Durations are multiplied by this (and latencies divided by it): 0.1 runs ten times faster. */
  scale: number;
  requests: number;
  /**
   * Runs each scenario at no less than its `minScale` (the outage scenarios at 0.5), where a
   * compressed time line would measure this machine's CPU. Default false: `scale` everywhere, for
   * short smoke runs whose figures need only be well-formed.
   */
  minScales?: boolean;
  /** Runs of every scenario x strategy; each figure reported is the median of theirs. Default 1. */
  rounds?: number;
  /** Scenario ids to run ('a', "a'", 'b'..'f'); all by default. */
  scenarios?: string[];
  /** Runs only the strategies whose names contain one of these (case-insensitive); all by default. */
  strategies?: string[];
  /** Writes bench/results/storm.{json,md,html} when given. */
  outDir?: string;
  progress?: (done: number, total: number, label: string) => void;
}

/** Strategies and the scenarios each runs, in the order they run. */
interface Lineup {
  strategy: (scenario: Scenario) => Strategy;
  scenarios: Scenario[];
  /** Once the strategy's runs are over. */
  dispose?: () => Promise<void>;
}

const picked = (name: string, names?: string[]) => !names || names.some((part) => name.toLowerCase().includes(part.trim().toLowerCase()));

function selectScenarios(ids: string[] | undefined): Scenario[] {
  const unknown = ids?.filter((id) => !SCENARIOS.some((scenario) => scenario.id === id));
  if (unknown?.length) throw new Error(`unknown storm scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.map((scenario) => scenario.id).join(', ')}`);
  return SCENARIOS.filter((scenario) => !ids || ids.includes(scenario.id));
}

/**
 * Peers first, this module after them: its first guarded call turns on Node's async-context hooks
 * for the rest of the process, and no peer should pay for them. The fleets last: their replicas
 * are processes of their own, and only they run the fleet scenarios.
 */
function lineup(scenarios: Scenario[], names?: string[]): Lineup[] {
  const single = scenarios.filter((scenario) => scenario.replicas === undefined);
  const fleets = scenarios.filter((scenario) => scenario.replicas !== undefined);
  const replicas = Math.max(0, ...fleets.map((scenario) => scenario.replicas!));
  const shared = fleetStrategy(true, replicas);
  const separate = fleetStrategy(false, replicas);
  return [
    ...PEER_STRATEGIES.map((strategy) => ({ strategy: () => strategy, scenarios: single })),
    { strategy: (scenario: Scenario) => resilientLlmStrategy({ budgetUsd: scenario.budgetUsd }), scenarios: single },
    { strategy: () => shared, scenarios: fleets, dispose: shared.dispose },
    { strategy: () => separate, scenarios: fleets, dispose: separate.dispose },
  ].filter((entry) => entry.scenarios.length > 0 && picked(entry.strategy(entry.scenarios[0]).name, names));
}

export async function runStormBenchmark(options: StormOptions): Promise<StormRun[]> {
  const rounds = options.rounds ?? 1;
  for (const [name, value] of Object.entries({ rounds, requests: options.requests })) {
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`the storm benchmark's ${name} must be a whole number >= 1, got ${value}`);
  }
  const scenarios = selectScenarios(options.scenarios);
  const plan = lineup(scenarios, options.strategies);
  const total = plan.reduce((sum, entry) => sum + entry.scenarios.length, 0) * rounds;
  const cells = new Map<string, StormRun[]>();
  let done = 0;
  const upstream = await RemoteUpstream.start();
  try {
    for (const { strategy: strategyFor, scenarios: mine, dispose } of plan) {
      try {
        // Round by round through the strategy's scenarios, so that a round's neighbours differ.
        for (let round = 1; round <= rounds; round++) {
          for (const scenario of mine) {
            const strategy = strategyFor(scenario);
            options.progress?.(done++, total, `(${scenario.id}) ${strategy.name}${rounds > 1 ? `, round ${round}/${rounds}` : ''}`);
            const key = `${scenario.id}\u0000${strategy.name}`;
            cells.set(key, [...(cells.get(key) ?? []), await runScenario(scenario, strategy, upstream, options)]);
          }
        }
      } finally {
        await dispose?.();
      }
    }
  } finally {
    await upstream.stop();
  }
  const order = (run: StormRun) => SCENARIOS.findIndex((scenario) => scenarioLabel(scenario) === run.row.scenario);
  // Reported scenario by scenario (a stable sort keeps the strategies in their order).
  const runs = [...cells.values()].map(medianRun).sort((a, b) => order(a) - order(b));
  options.progress?.(total, total, 'done');
  if (options.outDir) await writeResults(options.outDir, runs, { measuredAt: new Date().toISOString(), scale: describeScales(scenarios, options), node: process.version, rounds });
  return runs;
}

/** "0.1 ((a) at 1; (b), (f) at 0.5)": the time scale, and the scenarios that ran at another. */
function describeScales(scenarios: Scenario[], options: StormOptions): string {
  const others = new Map<number, string[]>();
  for (const scenario of scenarios) {
    const scale = scaleOf(scenario, options);
    if (scale !== options.scale) others.set(scale, [...(others.get(scale) ?? []), `(${scenario.id})`]);
  }
  const exceptions = [...others].map(([scale, ids]) => `${ids.join(', ')} at ${scale}`);
  return exceptions.length ? `${options.scale} (${exceptions.join('; ')})` : String(options.scale);
}

async function writeResults(outDir: string, runs: StormRun[], meta: { measuredAt: string; scale: string; node: string; rounds: number }): Promise<void> {
  // Each cell's median figures, with every round's beside them.
  const cells = runs.map((run) => ({ ...run.row, rounds: run.rounds }));
  const figures = meta.rounds > 1 ? `each figure the median of ${meta.rounds} runs` : 'one run';
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'storm.json'), `${JSON.stringify(cells, null, 2)}\n`);
  await writeFile(
    join(outDir, 'storm.md'),
    `# Retry-storm benchmark\n\nMeasured ${meta.measuredAt} on this machine (Node ${meta.node}), time scale ${meta.scale}, ${figures}; figures are unscaled.\n\n${stormMarkdown(runs)}\n${acceptanceMarkdown(runs)}`,
  );
  await writeFile(join(outDir, 'storm.html'), stormHtml(runs, meta));
}

/** A one-line progress bar on stderr. */
export function progressBar(done: number, total: number, label: string): void {
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label.padEnd(48).slice(0, 48)}`);
  if (done === total) process.stderr.write('\n');
}
