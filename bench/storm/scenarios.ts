/**
 * The storm scenarios, in unscaled milliseconds: the runner multiplies every duration
 * (latency, timeouts, outage windows, delays, Retry-After) by the time scale and divides the
 * latencies it measures by it again, so that figures read as if run at full length.
 */
export interface Scenario {
  id: 'a' | 'b' | 'c' | 'd';
  name: string;
  requests: number;
  /** Milliseconds between request starts (0: all at once). */
  arrivalEveryMs: number;
  /** Builds the upstream's fault script for a time scale. */
  faults: (scale: number) => object;
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
  /** When the outage ends (unscaled), to report attempts per request during it. */
  outageEndMs?: number;
}

const ms = (value: number, scale: number) => Math.max(0, Math.round(value * scale));

export const SCENARIOS: Scenario[] = [
  {
    id: 'a',
    name: '5% timeouts, 1000 concurrent',
    requests: 1_000,
    arrivalEveryMs: 0,
    realTime: true,
    faults: (scale) => ({ seed: 11, rates: { timeout: 0.05 }, latencyMs: [ms(20, scale), ms(80, scale)] }),
    prompt: 'Summarize the plot of a short story in one sentence.',
    model: 'gpt-4o-mini',
  },
  {
    id: 'b',
    name: 'total outage, then recovery',
    requests: 1_000,
    arrivalEveryMs: 20,
    outageEndMs: 15_000,
    // Down for the first 15 s of the 20 s of arrivals, healthy after.
    faults: (scale) => ({ seed: 12, outages: [{ startMs: 0, endMs: ms(15_000, scale), fault: '503' }], latencyMs: [ms(20, scale), ms(80, scale)] }),
    prompt: 'Summarize the plot of a short story in one sentence.',
    model: 'gpt-4o-mini',
  },
  {
    id: 'c',
    name: '429 bursts with Retry-After',
    requests: 1_000,
    arrivalEveryMs: 15,
    faults: (scale) => ({
      seed: 13,
      outages: [
        { startMs: ms(2_000, scale), endMs: ms(4_000, scale), fault: `429:retry-after-ms=${ms(2_000, scale)}` },
        { startMs: ms(8_000, scale), endMs: ms(10_000, scale), fault: `429:retry-after-ms=${ms(2_000, scale)}` },
      ],
      latencyMs: [ms(20, scale), ms(80, scale)],
    }),
    prompt: 'Summarize the plot of a short story in one sentence.',
    model: 'gpt-4o-mini',
  },
  {
    id: 'd',
    name: 'outage with a dollar budget',
    requests: 1_000,
    arrivalEveryMs: 20,
    // The dependency hangs: every attempt times out after its ~2K-token prompt was billed.
    faults: (scale) => ({ seed: 14, rates: { timeout: 1 }, latencyMs: [ms(20, scale), ms(80, scale)] }),
    prompt: 'Context: '.concat('lorem ipsum dolor sit amet '.repeat(300)),
    model: 'gpt-4.1',
    budgetUsd: 2,
  },
];
