import type { UpstreamStats } from '@app/fault-upstream';
import { DEFAULT_MODEL_PRICES } from '../../libs/resilient-llm/src/pricing/bundled-prices.js';
import type { Scenario } from './scenarios.js';

/** One line of bench/results/storm.json; every figure in unscaled terms. */
export interface StormRow {
  scenario: string;
  strategy: string;
  requests: number;
  successRate: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  amplification: number;
  /** Billed tokens whose result nobody got (prompts of attempts abandoned on a timeout or a reset), % of all billed. */
  tokenWastePct: number;
  /** The part of the token waste billed for retries (attempts after a logical request's first), % of all billed. */
  retryWastePct: number;
  costUsd: number;
  overshootUsd: number;
  /** (b), (f): upstream attempts per request among the requests that arrived during the outage. */
  outageAmplification?: number;
  /** (e): 429s from the provider's rate limit, % of the attempts it received. */
  rateLimitedPct?: number;
  /** (e): successes completed within the arrival window, % of the requests the provider's limit admits in it. */
  throughputPct?: number;
  /** (f): replicas whose circuit opened. */
  replicasOpened?: number;
  /** (f): unscaled ms between the first and the last replica's first circuit opening, when all of them opened. */
  circuitOpenSpreadMs?: number;
}

/** What the runner saw of one scenario x strategy run, in unscaled ms from its first arrival. */
export interface RunObservations {
  requests: number;
  scale: number;
  stats: UpstreamStats;
  /** When each request arrived. */
  startTimes: number[];
  /** Each request's latency, and when each successful one completed. */
  latencies: number[];
  successEnds: number[];
  /** When each upstream attempt ended. */
  attemptTimes: number[];
  /** Epoch ms of each replica's first circuit opening, for a fleet. */
  circuitOpenings?: Array<number | undefined>;
}

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : 0);
export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
const pct = (part: number, whole: number) => (whole ? round((part / whole) * 100, 2) : 0);

export const scenarioLabel = (scenario: Scenario) => `(${scenario.id}) ${scenario.name}`;

/** The row's figures from what the upstream counted and what the client saw. */
export function stormRow(scenario: Scenario, strategy: string, seen: RunObservations): StormRow {
  const { stats, requests } = seen;
  const price = DEFAULT_MODEL_PRICES[scenario.model];
  const billedInput = stats.servedTokens.input + stats.abandonedPromptTokens;
  const billedTokens = billedInput + stats.servedTokens.output;
  const costUsd = (billedInput * price.inputUsdPerMTok + stats.servedTokens.output * price.outputUsdPerMTok) / 1_000_000;
  const sorted = [...seen.latencies].sort((a, b) => a - b);
  return {
    scenario: scenarioLabel(scenario),
    strategy,
    requests,
    successRate: pct(seen.successEnds.length, requests),
    meanMs: Math.round(sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length)),
    p50Ms: Math.round(percentile(sorted, 50)),
    p99Ms: Math.round(percentile(sorted, 99)),
    amplification: round(stats.totalRequests / requests, 2),
    tokenWastePct: pct(stats.abandonedPromptTokens, billedTokens),
    retryWastePct: pct(stats.retryAbandonedPromptTokens, billedTokens),
    costUsd: round(costUsd, 4),
    overshootUsd: scenario.budgetUsd !== undefined ? round(Math.max(0, costUsd - scenario.budgetUsd), 2) : 0,
    ...outageFigures(scenario, seen),
    ...rateLimitFigures(scenario, seen),
    ...fleetFigures(seen),
  };
}

function outageFigures(scenario: Scenario, seen: RunObservations): Partial<StormRow> {
  const end = scenario.outageEndMs;
  if (end === undefined) return {};
  const arrived = seen.startTimes.filter((time) => time < end).length;
  return { outageAmplification: round(seen.attemptTimes.filter((time) => time < end).length / Math.max(1, arrived), 2) };
}

function rateLimitFigures(scenario: Scenario, seen: RunObservations): Partial<StormRow> {
  if (!scenario.providerLimit) return {};
  const windowMs = scenario.arrivalWindowMs ?? 60_000;
  const admitted = (scenario.providerLimit(seen.requests).admittedPerMinute * windowMs) / 60_000;
  return {
    rateLimitedPct: pct(seen.stats.rateLimited, seen.stats.totalRequests),
    throughputPct: pct(seen.successEnds.filter((end) => end <= windowMs).length, admitted),
  };
}

function fleetFigures(seen: RunObservations): Partial<StormRow> {
  if (!seen.circuitOpenings) return {};
  const opened = seen.circuitOpenings.filter((at): at is number => at !== undefined);
  const all = opened.length === seen.circuitOpenings.length && opened.length > 0;
  return {
    replicasOpened: opened.length,
    ...(all && { circuitOpenSpreadMs: Math.round((Math.max(...opened) - Math.min(...opened)) / seen.scale) }),
  };
}
