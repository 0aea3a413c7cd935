import { fleetStrategyName } from './fleet-strategy.js';
import { MODULE_STRATEGY_NAME } from './module-strategy.js';
import type { StormRow, StormRun } from './run-storm.js';
import { SCENARIOS, type Scenario } from './scenarios.js';
import { scenarioLabel } from './storm-figures.js';

/** The rows of one scenario: this module's (or a fleet's) and the peers'. */
interface ScenarioRows {
  all: StormRow[];
  named: (strategy: string) => StormRow | undefined;
  peers: StormRow[];
}

interface Verdict {
  measured: string;
  met: boolean;
}

interface AcceptanceCheck {
  scenario: Scenario['id'];
  figure: string;
  target: string;
  judge: (rows: ScenarioRows) => Verdict | undefined;
}

const FLEET_SHARED = fleetStrategyName(true, SCENARIOS.find((scenario) => scenario.id === 'f')?.replicas ?? 4);
const REFERENCE_PEER = 'exponential + full jitter';

/** A figure of one strategy's row against a bound; undefined (not run) when the row or figure is missing. */
function figure(strategy: string, key: keyof StormRow, holds: (value: number) => boolean, format = (value: number) => String(value)): (rows: ScenarioRows) => Verdict | undefined {
  return (rows) => {
    const value = rows.named(strategy)?.[key];
    return typeof value === 'number' ? { measured: format(value), met: holds(value) } : undefined;
  };
}

const percent = (value: number) => `${value}%`;

/** Each with its target, as the README quotes them; every figure the median of the rounds. */
const CHECKS: AcceptanceCheck[] = [
  { scenario: 'b', figure: 'success', target: '>= 95%', judge: figure(MODULE_STRATEGY_NAME, 'successRate', (v) => v >= 95, percent) },
  { scenario: 'b', figure: 'attempts/request, whole run', target: '<= 1.15', judge: figure(MODULE_STRATEGY_NAME, 'amplification', (v) => v <= 1.15) },
  { scenario: 'b', figure: 'attempts/request during the outage', target: '<= 0.2', judge: figure(MODULE_STRATEGY_NAME, 'outageAmplification', (v) => v <= 0.2) },
  { scenario: 'e', figure: '429s', target: '<= 1% of attempts', judge: figure(MODULE_STRATEGY_NAME, 'rateLimitedPct', (v) => v <= 1, percent) },
  { scenario: 'e', figure: 'throughput', target: ">= 90% of the provider's limit", judge: figure(MODULE_STRATEGY_NAME, 'throughputPct', (v) => v >= 90, percent) },
  {
    scenario: "a'",
    figure: 'success',
    target: ">= best peer's - 0.1 pt",
    judge: (rows) => {
      const mine = rows.named(MODULE_STRATEGY_NAME);
      if (!mine || !rows.peers.length) return undefined;
      const best = Math.max(...rows.peers.map((row) => row.successRate));
      return { measured: `${mine.successRate}% (best peer ${best}%)`, met: mine.successRate >= best - 0.1 };
    },
  },
  { scenario: 'a', figure: 'retry waste', target: '<= 1.2%', judge: figure(MODULE_STRATEGY_NAME, 'retryWastePct', (v) => v <= 1.2, percent) },
  {
    scenario: 'a',
    figure: 'token waste',
    target: "<= every peer's",
    judge: (rows) => {
      const mine = rows.named(MODULE_STRATEGY_NAME);
      if (!mine || !rows.peers.length) return undefined;
      const least = Math.min(...rows.peers.map((row) => row.tokenWastePct));
      return { measured: `${mine.tokenWastePct}% (least of the peers ${least}%)`, met: mine.tokenWastePct <= least };
    },
  },
  {
    scenario: 'a',
    figure: 'p99',
    target: `within 3% of "${REFERENCE_PEER}"`,
    judge: (rows) => {
      const mine = rows.named(MODULE_STRATEGY_NAME);
      const reference = rows.named(REFERENCE_PEER);
      if (!mine || !reference) return undefined;
      return { measured: `${mine.p99Ms} ms (${REFERENCE_PEER} ${reference.p99Ms} ms)`, met: mine.p99Ms <= reference.p99Ms * 1.03 };
    },
  },
  { scenario: 'd', figure: 'overshoot', target: '$0.00', judge: figure(MODULE_STRATEGY_NAME, 'overshootUsd', (v) => v === 0, (v) => `$${v.toFixed(2)}`) },
  { scenario: 'f', figure: 'attempts/request during the outage, shared state', target: '<= 1.2', judge: figure(FLEET_SHARED, 'outageAmplification', (v) => v <= 1.2) },
  {
    scenario: 'f',
    figure: 'circuit open on every replica, shared state',
    target: 'all within 1 s',
    judge: (rows) => {
      const fleet = rows.named(FLEET_SHARED);
      if (!fleet || fleet.replicasOpened === undefined) return undefined;
      const replicas = SCENARIOS.find((scenario) => scenario.id === 'f')?.replicas ?? 4;
      const spread = fleet.circuitOpenSpreadMs;
      const measured = spread === undefined ? `${fleet.replicasOpened} of ${replicas} opened` : `all ${replicas} within ${spread} ms`;
      return { measured, met: fleet.replicasOpened === replicas && spread !== undefined && spread <= 1_000 };
    },
  },
];

function rowsOf(runs: StormRun[], id: Scenario['id']): ScenarioRows {
  const scenario = SCENARIOS.find((candidate) => candidate.id === id)!;
  const all = runs.filter((run) => run.row.scenario === scenarioLabel(scenario)).map((run) => run.row);
  const ours = (row: StormRow) => row.strategy === MODULE_STRATEGY_NAME || row.strategy.startsWith('resilient-llm x');
  return { all, named: (strategy) => all.find((row) => row.strategy === strategy), peers: all.filter((row) => !ours(row)) };
}

/** The acceptance figures, each against its target: met, not met, or not run. */
export function acceptanceMarkdown(runs: StormRun[]): string {
  const lines = ['## Acceptance', '', '| scenario | figure | target | measured | verdict |', '| --- | --- | --- | --- | --- |'];
  for (const check of CHECKS) {
    const verdict = check.judge(rowsOf(runs, check.scenario));
    const outcome = verdict ? (verdict.met ? 'met' : 'NOT MET') : 'not run';
    lines.push(`| (${check.scenario}) | ${check.figure} | ${check.target} | ${verdict?.measured ?? 'n/a'} | ${outcome} |`);
  }
  return `${lines.join('\n')}\n`;
}
