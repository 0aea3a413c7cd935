import { DEFAULT_MODEL_PRICES } from '../../libs/resilient-llm/src/pricing/bundled-prices.js';
import type { RemoteUpstream } from './remote-upstream.js';
import type { Scenario } from './scenarios.js';
import type { Strategy } from './strategies.js';

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
  tokenWastePct: number;
  costUsd: number;
  overshootUsd: number;
}

export interface StormRun {
  row: StormRow;
  /** Unscaled milliseconds from the start at which each upstream request ended. */
  attemptTimes: number[];
  /** Unscaled latency of each client request. */
  latencies: number[];
  /** Upstream attempts per request while the scenario's outage lasted (requests that arrived in it). */
  outageAmplification?: number;
}

const ATTEMPT_TIMEOUT_MS = 2_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : 0);
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

export async function runScenario(scenario: Scenario, strategy: Strategy, upstream: RemoteUpstream, options: { scale: number; requests: number }): Promise<StormRun> {
  const scale = scenario.realTime ? 1 : options.scale;
  const context = { baseURL: upstream.baseURL, scale, model: scenario.model, prompt: scenario.prompt, attemptTimeoutMs: ATTEMPT_TIMEOUT_MS };
  // Warm up on a throwaway instance, with a burst as large as the run's, on a healthy upstream:
  // compiled code and pooled connections carry over to the measured instance, while the
  // strategy's own state (a budget's spend, a breaker's window, a retry budget) does not.
  const warm = await strategy.create(context);
  await upstream.setFaults({});
  await Promise.all(Array.from({ length: Math.min(1_000, Math.max(20, options.requests)) }, () => warm.send().catch(() => undefined)));
  await warm.close?.();
  const { send, close } = await strategy.create(context);
  await upstream.resetStats();
  await upstream.setFaults(scenario.faults(scale)); // installed now, so that outage windows start with the first request
  const started = Date.now();
  const latencies: number[] = [];
  const startTimes: number[] = [];
  let succeeded = 0;
  const inFlight: Promise<void>[] = [];
  const t0 = performance.now();
  for (let index = 0; index < options.requests; index++) {
    // A fixed pause between starts: when the machine falls behind, arrivals stretch (the start
    // times below record it) instead of bunching into bursts the process cannot send in time.
    if (index > 0 && scenario.arrivalEveryMs > 0) await sleep(scenario.arrivalEveryMs * scale);
    const begin = performance.now();
    startTimes.push((begin - t0) / scale);
    inFlight.push(
      send().then(
        () => {
          succeeded++;
          latencies.push((performance.now() - begin) / scale);
        },
        () => {
          latencies.push((performance.now() - begin) / scale);
        },
      ),
    );
  }
  await Promise.all(inFlight);
  await close?.();
  const { stats, ends } = await upstream.report();
  // Requests that ended before the run started were the warm-up's.
  const attemptTimes = ends.filter((at) => at >= started).map((at) => (at - started) / scale);

  const price = DEFAULT_MODEL_PRICES[scenario.model];
  const billedInput = stats.servedTokens.input + stats.abandonedPromptTokens;
  const billedOutput = stats.servedTokens.output;
  const costUsd = (billedInput * price.inputUsdPerMTok + billedOutput * price.outputUsdPerMTok) / 1_000_000;
  const billedTokens = billedInput + billedOutput;
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    row: {
      scenario: `(${scenario.id}) ${scenario.name}`,
      strategy: strategy.name,
      requests: options.requests,
      successRate: round((succeeded / options.requests) * 100, 2),
      meanMs: Math.round(latencies.reduce((sum, value) => sum + value, 0) / Math.max(1, latencies.length)),
      p50Ms: Math.round(percentile(sorted, 50)),
      p99Ms: Math.round(percentile(sorted, 99)),
      amplification: round(stats.totalRequests / options.requests, 2),
      // Billed tokens whose result nobody got: the prompts of requests abandoned on a timeout or a reset.
      tokenWastePct: billedTokens ? round((stats.abandonedPromptTokens / billedTokens) * 100, 2) : 0,
      costUsd: round(costUsd, 4),
      overshootUsd: scenario.budgetUsd !== undefined ? round(Math.max(0, costUsd - scenario.budgetUsd), 2) : 0,
    },
    attemptTimes,
    latencies,
    ...(scenario.outageEndMs !== undefined && {
      outageAmplification: round(
        attemptTimes.filter((time) => time < scenario.outageEndMs!).length / Math.max(1, startTimes.filter((time) => time < scenario.outageEndMs!).length),
        2,
      ),
    }),
  };
}
