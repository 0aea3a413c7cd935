import { promptTokensOf } from '@app/fault-upstream/openai-responses.js';
import { MAX_TOKENS } from './request-shape.js';

/**
 * The storm scenarios, in unscaled milliseconds: the runner multiplies every duration
 * (latency, timeouts, outage windows, delays, Retry-After, rate-limit windows) by the time scale
 * and divides the latencies it measures by it again, so that figures read as if run at full length.
 */
export interface Scenario {
  id: 'a' | "a'" | 'b' | 'c' | 'd' | 'e' | 'f';
  name: string;
  /** Milliseconds between request starts (0: all at once). */
  arrivalEveryMs: number;
  /** When set, the requests arrive evenly over this many milliseconds instead (whatever their count). */
  arrivalWindowMs?: number;
  /** Builds the upstream's fault script for a time scale and the run's request count. */
  faults: (scale: number, requests: number) => object;
  /** The user message; long prompts make each billed attempt dear. */
  prompt: string;
  model: string;
  /** A dollar limit the module's budget guard enforces; overshoot is reported against it for everyone. */
  budgetUsd?: number;
  /**
   * Runs at full length whatever the time scale: 1000 requests at once cost a few hundred ms of
   * CPU in one process, which a shrunk attempt timeout would misread as upstream timeouts.
   */
  realTime?: boolean;
  /**
   * The lowest time scale at which the scenario measures the strategies rather than this machine's
   * CPU (applied when the runner is asked to): CPU work is not scaled, so a burst of it (the requests
   * that waited out an outage, released together) weighs ten times more at 0.1 than at full length.
   */
  minScale?: number;
  /** When the outage ends (unscaled), to report attempts per request during it. */
  outageEndMs?: number;
  /** A process spinning on one core while the strategy runs: a busy machine, not a busy upstream. */
  busyCore?: boolean;
  /** The provider's rate limit for the run's request count, to report throughput against it. */
  providerLimit?: (requests: number) => ProviderLimit;
  /** Replicas of this module sharing the load; peers, which have no shared state, are not run. */
  replicas?: number;
  /** Printed under the scenario's table. */
  note?: string;
}

export interface ProviderLimit {
  requestsPerMinute: number;
  tokensPerMinute: number;
  /** What one request counts against the tokens limit: its prompt plus its output cap, as OpenAI counts. */
  tokensPerRequest: number;
  /** Requests the limit admits in one minute from an empty bucket: the 100% of "throughput". */
  admittedPerMinute: number;
}

const SHORT_PROMPT = 'Summarize the plot of a short story in one sentence.';
const OFFERED_LOAD = 1.2;
const ms = (value: number, scale: number) => Math.max(0, Math.round(value * scale));
const latency = (scale: number): [number, number] => [ms(20, scale), ms(80, scale)];

/**
 * (e)'s provider: the run's arrivals are 120% of its requests limit, and the tokens limit admits
 * exactly as many requests, so that both throttle: the `x-ratelimit-*` of either dimension alone
 * reads "nothing left" at the same moment.
 */
export function providerLimitFor(requests: number): ProviderLimit {
  const tokensPerRequest = promptTokensOf({ messages: [{ role: 'user', content: SHORT_PROMPT }] }) + MAX_TOKENS;
  const requestsPerMinute = Math.max(1, Math.round(requests / OFFERED_LOAD));
  const tokensPerMinute = requestsPerMinute * tokensPerRequest;
  return { requestsPerMinute, tokensPerMinute, tokensPerRequest, admittedPerMinute: requestsPerMinute };
}

const timeouts = (scale: number) => ({ seed: 11, rates: { timeout: 0.05 }, latencyMs: latency(scale) });
const outageThenRecovery = (scale: number) => ({ seed: 12, outages: [{ startMs: 0, endMs: ms(15_000, scale), fault: '503' }], latencyMs: latency(scale) });
// (b) and (f): down for the first 15 s of the 20 s of arrivals, healthy after.
const OUTAGE_THEN_RECOVERY = {
  arrivalEveryMs: 20,
  outageEndMs: 15_000,
  minScale: 0.5,
  faults: outageThenRecovery,
  prompt: SHORT_PROMPT,
  model: 'gpt-4o-mini',
} as const;

export const SCENARIOS: Scenario[] = [
  {
    id: 'a',
    name: '5% timeouts, 1000 concurrent',
    arrivalEveryMs: 0,
    realTime: true,
    faults: timeouts,
    prompt: SHORT_PROMPT,
    model: 'gpt-4o-mini',
  },
  {
    id: "a'",
    name: '5% timeouts, 1000 concurrent, one core busy',
    arrivalEveryMs: 0,
    realTime: true,
    busyCore: true,
    faults: timeouts,
    prompt: SHORT_PROMPT,
    model: 'gpt-4o-mini',
    note: "As (a), with another process spinning on one of the machine's cores for the whole of each strategy's run.",
  },
  { id: 'b', name: 'total outage, then recovery', ...OUTAGE_THEN_RECOVERY },
  {
    id: 'c',
    name: '429 bursts with Retry-After',
    arrivalEveryMs: 15,
    faults: (scale) => ({
      seed: 13,
      outages: [
        { startMs: ms(2_000, scale), endMs: ms(4_000, scale), fault: `429:retry-after-ms=${ms(2_000, scale)}` },
        { startMs: ms(8_000, scale), endMs: ms(10_000, scale), fault: `429:retry-after-ms=${ms(2_000, scale)}` },
      ],
      latencyMs: latency(scale),
    }),
    prompt: SHORT_PROMPT,
    model: 'gpt-4o-mini',
  },
  {
    id: 'd',
    name: 'outage with a dollar budget',
    arrivalEveryMs: 20,
    // The dependency hangs: every attempt times out after its ~2K-token prompt was billed.
    faults: (scale) => ({ seed: 14, rates: { timeout: 1 }, latencyMs: latency(scale) }),
    prompt: 'Context: '.concat('lorem ipsum dolor sit amet '.repeat(300)),
    model: 'gpt-4.1',
    budgetUsd: 2,
  },
  {
    id: 'e',
    name: 'provider rate limit (RPM + TPM), 120% load for 60 s',
    arrivalEveryMs: 0,
    arrivalWindowMs: 60_000,
    providerLimit: providerLimitFor,
    faults: (scale, requests) => {
      const { requestsPerMinute, tokensPerMinute } = providerLimitFor(requests);
      // Buckets empty at the start: a provider already under steady load, with no burst to spend.
      return { seed: 15, latencyMs: latency(scale), rateLimit: { requestsPerMinute, tokensPerMinute, windowMs: Math.max(1, ms(60_000, scale)), startLevel: 0 } };
    },
    prompt: SHORT_PROMPT,
    model: 'gpt-4o-mini',
    note:
      'Limits: requests per minute = requests / 1.2, tokens per minute = that times (prompt + max_tokens 64) tokens, buckets empty at the start. ' +
      '429 % is of the attempts the provider received; throughput is the successes completed within the 60 s of arrivals, as % of the requests the limit admits in them.',
  },
  {
    id: 'f',
    name: 'total outage, then recovery, 4 replicas',
    ...OUTAGE_THEN_RECOVERY,
    replicas: 4,
    note:
      "(b)'s outage against 4 processes, each running this module with the same options, the arrivals spread over them round-robin. " +
      'Peers are not run: they keep no state to share. Attempts per request are fleet-wide; the circuit-open spread is between the first and the last replica whose circuit opened (unscaled ms).',
  },
];
