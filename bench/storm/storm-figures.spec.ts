import { type UpstreamStats, emptyStats } from '@app/fault-upstream';
import { acceptanceMarkdown } from './acceptance.js';
import { MODULE_STRATEGY_NAME } from './module-strategy.js';
import { medianRow } from './rounds.js';
import type { StormRun } from './run-storm.js';
import { SCENARIOS, type Scenario } from './scenarios.js';
import { type RunObservations, type StormRow, stormRow } from './storm-figures.js';

const scenario = (id: Scenario['id']) => SCENARIOS.find((candidate) => candidate.id === id)!;

const stats = (overrides: Partial<UpstreamStats>): UpstreamStats => ({ ...emptyStats(), ...overrides });

function observed(overrides: Partial<RunObservations>): RunObservations {
  return { requests: 4, scale: 0.1, stats: stats({}), startTimes: [], latencies: [], successEnds: [], attemptTimes: [], ...overrides };
}

const row = (overrides: Partial<StormRow>): StormRow => ({
  scenario: '(x) test',
  strategy: 'test',
  requests: 4,
  successRate: 100,
  meanMs: 1,
  p50Ms: 1,
  p99Ms: 1,
  amplification: 1,
  tokenWastePct: 0,
  retryWastePct: 0,
  costUsd: 0,
  overshootUsd: 0,
  ...overrides,
});

describe('stormRow', () => {
  it('counts retry waste as the abandoned retries’ prompt tokens over every billed token', () => {
    const seen = observed({ stats: stats({ totalRequests: 5, servedTokens: { input: 700, output: 100 }, abandonedPromptTokens: 200, retryAbandonedPromptTokens: 50 }) });
    const figures = stormRow(scenario('a'), 'x', seen);
    expect(figures.tokenWastePct).toBe(20);
    expect(figures.retryWastePct).toBe(5);
    expect(figures.amplification).toBe(1.25);
  });

  it('reports (e)’s 429s over the attempts, and throughput as successes inside the 60 s over what the limit admits', () => {
    const requests = 12;
    const admitted = scenario('e').providerLimit!(requests).admittedPerMinute;
    expect(admitted).toBe(10);
    const seen = observed({ requests, stats: stats({ totalRequests: 20, rateLimited: 5 }), successEnds: [1_000, 30_000, 59_999, 60_000, 60_001, 90_000] });
    const figures = stormRow(scenario('e'), 'x', seen);
    expect(figures.rateLimitedPct).toBe(25);
    expect(figures.throughputPct).toBe(40);
    expect(figures.successRate).toBe(50);
  });

  it('counts attempts per request among the arrivals inside (b)’s outage only', () => {
    const seen = observed({ startTimes: [0, 5_000, 14_999, 15_000], attemptTimes: [10, 20, 14_000, 15_500, 16_000] });
    expect(stormRow(scenario('b'), 'x', seen).outageAmplification).toBe(1);
  });

  it('gives (f)’s circuit-open spread unscaled, and none unless every replica opened', () => {
    const all = stormRow(scenario('f'), 'x', observed({ scale: 0.5, circuitOpenings: [1_000, 1_050, 1_020, 1_100] }));
    expect([all.replicasOpened, all.circuitOpenSpreadMs]).toEqual([4, 200]);
    const some = stormRow(scenario('f'), 'x', observed({ circuitOpenings: [1_000, undefined, 1_020, 1_100] }));
    expect(some.replicasOpened).toBe(3);
    expect(some).not.toHaveProperty('circuitOpenSpreadMs');
  });
});

describe('medianRow', () => {
  it('takes each figure’s median on its own', () => {
    const median = medianRow([row({ successRate: 90, p99Ms: 300 }), row({ successRate: 100, p99Ms: 100 }), row({ successRate: 95, p99Ms: 200 })]);
    expect([median.successRate, median.p99Ms]).toEqual([95, 200]);
  });

  it('counts a round in which some replica never opened as an infinite spread', () => {
    const opened = (spread?: number) => row({ replicasOpened: spread === undefined ? 3 : 4, ...(spread !== undefined && { circuitOpenSpreadMs: spread }) });
    expect(medianRow([opened(100), opened(), opened(300)]).circuitOpenSpreadMs).toBe(300);
    expect(medianRow([opened(100), opened(), opened()])).not.toHaveProperty('circuitOpenSpreadMs');
  });
});

describe('acceptanceMarkdown', () => {
  const run = (figures: Partial<StormRow>): StormRun => ({ row: row(figures), rounds: [], attemptTimes: [], latencies: [] });
  const label = '(b) total outage, then recovery';

  it('says met, NOT MET or not run for each figure', () => {
    const runs = [run({ scenario: label, strategy: MODULE_STRATEGY_NAME, successRate: 99, amplification: 1.2, outageAmplification: 0.1 })];
    const lines = acceptanceMarkdown(runs).split('\n');
    expect(lines.find((line) => line.startsWith('| (b) | success |'))).toMatch(/\| 99% \| met \|$/);
    expect(lines.find((line) => line.startsWith('| (b) | attempts/request, whole run |'))).toMatch(/\| 1\.2 \| NOT MET \|$/);
    expect(lines.find((line) => line.startsWith('| (e) | 429s |'))).toMatch(/\| n\/a \| not run \|$/);
  });
});
