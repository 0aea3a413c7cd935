import { type ChildProcess, spawn } from 'node:child_process';
import type { RemoteUpstream } from './remote-upstream.js';
import type { Scenario } from './scenarios.js';
import { type RunObservations, type StormRow, stormRow } from './storm-figures.js';
import type { Strategy, StrategyContext, StrategyInstance } from './strategies.js';

export type { StormRow } from './storm-figures.js';

export interface StormRun {
  /** The cell's figures: one round's, or the median of its rounds'. */
  row: StormRow;
  /** Each round's figures (one entry for a single run). */
  rounds: StormRow[];
  /** Unscaled milliseconds from the start at which each upstream request ended. */
  attemptTimes: number[];
  /** Unscaled latency of each client request. */
  latencies: number[];
}

const ATTEMPT_TIMEOUT_MS = 2_000;
const WARM_UP_REQUESTS = 1_000;
// On a compressed time line (200 ms attempt timeouts at 0.1) a burst of 1000 is a storm of its own,
// which slows the warm-up without warming anything more: there, it comes in waves of this many.
const WARM_UP_WAVE = 200;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A process spinning on one core until it is killed: the app's machine is busy, its upstream is not. */
async function occupyCore(): Promise<() => Promise<void>> {
  const child: ChildProcess = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
}

/**
 * Starts the requests at the scenario's pace and waits for all of them. A fixed pause between
 * starts: when the machine falls behind, arrivals stretch (the start times record it) instead of
 * bunching into bursts the process cannot send in time.
 */
async function drive(instance: StrategyInstance, scenario: Scenario, requests: number, scale: number) {
  const everyMs = scenario.arrivalWindowMs !== undefined ? scenario.arrivalWindowMs / requests : scenario.arrivalEveryMs;
  const startTimes: number[] = [];
  const latencies: number[] = [];
  const successEnds: number[] = [];
  const inFlight: Promise<void>[] = [];
  const t0 = performance.now();
  for (let index = 0; index < requests; index++) {
    if (index > 0 && everyMs > 0) await sleep(everyMs * scale);
    const begin = performance.now();
    startTimes.push((begin - t0) / scale);
    const settle = (succeeded: boolean) => () => {
      const end = performance.now();
      latencies.push((end - begin) / scale);
      if (succeeded) successEnds.push((end - t0) / scale);
    };
    inFlight.push(instance.send().then(settle(true), settle(false)));
  }
  await Promise.all(inFlight);
  return { startTimes, latencies, successEnds };
}

/**
 * Warms up a throwaway instance on a healthy upstream, with as many requests as the run (a burst as
 * large as the run's where the run is one): compiled code and pooled connections carry over to the
 * measured instance, while the strategy's own state (a budget's spend, a breaker's window, a retry
 * budget) does not.
 */
async function warmUp(strategy: Strategy, context: StrategyContext, scenario: Scenario, requests: number, upstream: RemoteUpstream): Promise<void> {
  const warm = await strategy.create(context);
  await upstream.setFaults({});
  const total = Math.min(WARM_UP_REQUESTS, Math.max(20, requests));
  const wave = scenario.arrivalEveryMs === 0 && scenario.arrivalWindowMs === undefined ? total : WARM_UP_WAVE;
  for (let sent = 0; sent < total; sent += wave) {
    await Promise.all(Array.from({ length: Math.min(wave, total - sent) }, () => warm.send().catch(() => undefined)));
  }
  await warm.close?.();
}

export interface RunOptions {
  scale: number;
  requests: number;
  /** Runs the scenario at no less than its `minScale`. */
  minScales?: boolean;
}

/** The time scale a scenario runs at. */
export const scaleOf = (scenario: Scenario, options: RunOptions) =>
  scenario.realTime ? 1 : Math.max(options.scale, options.minScales ? (scenario.minScale ?? 0) : 0);

/** One scenario x strategy run, its figures unscaled. */
export async function runScenario(scenario: Scenario, strategy: Strategy, upstream: RemoteUpstream, options: RunOptions): Promise<StormRun> {
  const scale = scaleOf(scenario, options);
  const { requests } = options;
  const context = { baseURL: upstream.baseURL, scale, model: scenario.model, prompt: scenario.prompt, attemptTimeoutMs: ATTEMPT_TIMEOUT_MS };
  await warmUp(strategy, context, scenario, requests, upstream);
  const instance = await strategy.create(context);
  const release = scenario.busyCore ? await occupyCore() : undefined;
  let driven: Awaited<ReturnType<typeof drive>>;
  let started: number;
  try {
    await upstream.resetStats();
    await upstream.setFaults(scenario.faults(scale, requests)); // installed now, so that outage windows start with the first request
    started = Date.now();
    driven = await drive(instance, scenario, requests, scale);
  } finally {
    await release?.();
  }
  await instance.close?.();
  const { stats, ends } = await upstream.report();
  // Requests that ended before the run started were the warm-up's.
  const attemptTimes = ends.filter((at) => at >= started).map((at) => (at - started) / scale);
  const seen: RunObservations = { requests, scale, stats, attemptTimes, ...driven, circuitOpenings: instance.circuitOpenings?.() };
  const row = stormRow(scenario, strategy.name, seen);
  return { row, rounds: [row], attemptTimes, latencies: driven.latencies };
}
