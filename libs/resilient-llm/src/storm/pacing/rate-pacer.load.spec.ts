import { ManualTimers } from '../../testing/manual-timers.js';
import type { RateLimitReading } from './rate-limit-headers.js';
import { isRateLimitWaitExceededError } from './rate-limit-wait-exceeded.error.js';
import { RatePacer } from './rate-pacer.js';

const WINDOW_MS = 60_000;

interface Limits {
  requests: number;
  tokens: number;
}

/**
 * The provider: token buckets at exactly its limits (full capacity `limit`, refilling `limit`
 * per window), answering each request it admits with its `x-ratelimit-*` figures, and with a
 * 429 and the wait until room when it has none.
 */
class ProviderLimits {
  private readonly level: Limits;
  private atMs: number;

  constructor(
    private readonly limits: Limits,
    startMs: number,
    startLevel: Limits = limits,
  ) {
    this.level = { ...startLevel };
    this.atMs = startMs;
  }

  answer(tokens: number, nowMs: number): { status: number; reading: RateLimitReading; retryAfterMs?: number } {
    const elapsedMs = nowMs - this.atMs;
    this.atMs = nowMs;
    for (const dimension of ['requests', 'tokens'] as const) {
      this.level[dimension] = Math.min(this.limits[dimension], this.level[dimension] + (elapsedMs * this.limits[dimension]) / WINDOW_MS);
    }
    const need: Limits = { requests: 1, tokens };
    const fits = this.level.requests >= need.requests && this.level.tokens >= need.tokens;
    if (fits) for (const dimension of ['requests', 'tokens'] as const) this.level[dimension] -= need[dimension];
    const reading = this.reading();
    if (fits) return { status: 200, reading };
    const retryAfterMs = Math.max(...(['requests', 'tokens'] as const).map((dimension) => Math.ceil(((need[dimension] - this.level[dimension]) * WINDOW_MS) / this.limits[dimension])));
    return { status: 429, reading, retryAfterMs };
  }

  private reading(): RateLimitReading {
    const of = (dimension: keyof Limits) => ({
      limit: this.limits[dimension],
      remaining: Math.max(0, Math.floor(this.level[dimension])),
      resetMs: Math.ceil(((this.limits[dimension] - this.level[dimension]) * WINDOW_MS) / this.limits[dimension]),
    });
    return { requests: of('requests'), tokens: of('tokens') };
  }
}

interface Scenario {
  limits: Limits;
  /** Tokens of the n-th request (prompt plus output cap). */
  tokensOf: (index: number) => number;
  /** Requests offered per window: 120% of what the limits allow. */
  offeredPerWindow: number;
  minutes: number;
  /** The account is already at its limit when the load starts (the pacer has seen it say so). */
  startsDrained: boolean;
}

const LATENCY_MS = 300;
const MAX_WAIT_MS = 10_000;

async function runSteadyLoad(scenario: Scenario) {
  const timers = new ManualTimers();
  const t0 = timers.now();
  const pacer = new RatePacer('https://api.example|gpt-x', { windowMs: WINDOW_MS, share: 0.95, maxWaiting: 1_000 }, { timers });
  const provider = new ProviderLimits(scenario.limits, t0, scenario.startsDrained ? { requests: 0, tokens: 0 } : scenario.limits);
  if (scenario.startsDrained) await pacer.observe(provider.answer(0, t0).reading, 200);
  const perMinute = Array.from({ length: scenario.minutes }, () => ({ requests: 0, tokens: 0 }));
  const outcome = { tooManyRequests: 0, refusedAtOnce: 0, refusedAfterWaiting: 0, longestWaitMs: 0 };
  const intervalMs = WINDOW_MS / scenario.offeredPerWindow;
  const send = (tokens: number) => {
    const answer = provider.answer(tokens, timers.now());
    if (answer.status === 429) outcome.tooManyRequests++;
    else {
      const minute = perMinute[Math.floor((timers.now() - t0) / WINDOW_MS)];
      minute.requests++;
      minute.tokens += tokens;
    }
    timers.setTimeout(() => void pacer.observe(answer.reading, answer.status, answer.retryAfterMs), LATENCY_MS);
  };
  for (let index = 0; index * intervalMs < scenario.minutes * WINDOW_MS; index++) {
    timers.setTimeout(() => {
      const tokens = scenario.tokensOf(index);
      const arrivedAtMs = timers.now();
      pacer.acquire({ tokens }, { maxWaitMs: MAX_WAIT_MS }).then(
        (pass) => {
          outcome.longestWaitMs = Math.max(outcome.longestWaitMs, pass.waitedMs);
          send(tokens);
        },
        (error) => {
          if (!isRateLimitWaitExceededError(error)) throw error;
          if (timers.now() === arrivedAtMs) outcome.refusedAtOnce++;
          else outcome.refusedAfterWaiting++;
        },
      );
    }, index * intervalMs);
  }
  await timers.advance(scenario.minutes * WINDOW_MS);
  return { perMinute, ...outcome };
}

describe('RatePacer under a steady load of 120% of the limit', () => {
  it('request limit, account already at its limit: a minute passes at most the limit and at least 90% of it, with no 429', async () => {
    const result = await runSteadyLoad({ limits: { requests: 600, tokens: 10_000_000 }, tokensOf: () => 1_000, offeredPerWindow: 720, minutes: 1, startsDrained: true });
    expect(result.tooManyRequests).toBe(0);
    expect(result.perMinute[0].requests).toBeLessThanOrEqual(600);
    expect(result.perMinute[0].requests).toBeGreaterThanOrEqual(540);
    expect(result.refusedAfterWaiting).toBe(0);
    expect(result.refusedAtOnce).toBeGreaterThan(0);
    expect(result.longestWaitMs).toBeLessThanOrEqual(MAX_WAIT_MS);
  });

  it('token limit, requests of uneven sizes: a minute passes at most the token limit and at least 90% of it, with no 429', async () => {
    const sizes = [400, 1_600, 700, 1_300];
    const result = await runSteadyLoad({ limits: { requests: 10_000, tokens: 600_000 }, tokensOf: (index) => sizes[index % sizes.length], offeredPerWindow: 720, minutes: 1, startsDrained: true });
    expect(result.tooManyRequests).toBe(0);
    expect(result.perMinute[0].tokens).toBeLessThanOrEqual(600_000);
    expect(result.perMinute[0].tokens).toBeGreaterThanOrEqual(540_000);
    expect(result.refusedAfterWaiting).toBe(0);
  });

  it('fresh account, nothing known at first: the full bucket is spent, then minutes settle within 90-100% of the limit, never a 429', async () => {
    const result = await runSteadyLoad({ limits: { requests: 600, tokens: 10_000_000 }, tokensOf: () => 1_000, offeredPerWindow: 720, minutes: 7, startsDrained: false });
    expect(result.tooManyRequests).toBe(0);
    expect(result.refusedAfterWaiting).toBe(0);
    // A full bucket of 600 drains at 720 - 570 a minute: four minutes pass everything offered.
    expect(result.perMinute.slice(0, 3).map((minute) => minute.requests)).toEqual([720, 720, 720]);
    for (const minute of result.perMinute.slice(5)) {
      expect(minute.requests).toBeLessThanOrEqual(600);
      expect(minute.requests).toBeGreaterThanOrEqual(540);
    }
  });
});
