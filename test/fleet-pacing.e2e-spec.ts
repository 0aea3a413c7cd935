import type { Redis } from 'ioredis';
import { RedisFleetLink, RedisRateBuckets, resolveFleetOptions } from '../libs/resilient-llm/src/storm/fleet/index.js';
import { RatePacer, isRateLimitWaitExceededError, type RateLimitReading, type RateLimitWaitExceededError, type ResolvedPacingOptions } from '../libs/resilient-llm/src/storm/pacing/index.js';
import { REDIS_URL, recordingLogger, redisNow, fleetTestScope, skipWithoutRedis, uniquePrefix } from './support/fleet-redis.js';

const skipRedis = await skipWithoutRedis();

// Ten requests a second, all of it paced to: one request per 100 ms once the burst is spent.
const LIMIT = 10;
const PACING: ResolvedPacingOptions = { windowMs: 1_000, share: 1, maxWaiting: 100 };
const RATE_PER_MS = (LIMIT * PACING.share) / PACING.windowMs;
const KEY = 'openai|gpt-test';
const reading = (remaining: number): RateLimitReading => ({ requests: { limit: LIMIT, remaining } });

/** Fires `count` acquires at once and counts how each settled; anything but a pass or a pacing refusal is kept to fail on. */
async function acquireMany(pacer: RatePacer, count: number, maxWaitMs: number): Promise<{ passed: number; refused: number; other: unknown[] }> {
  const outcomes = await Promise.allSettled(Array.from({ length: count }, () => pacer.acquire({ tokens: 0 }, { maxWaitMs })));
  const tally = { passed: 0, refused: 0, other: [] as unknown[] };
  for (const outcome of outcomes) {
    if (outcome.status === 'fulfilled') tally.passed++;
    else if (isRateLimitWaitExceededError(outcome.reason)) tally.refused++;
    else tally.other.push(outcome.reason);
  }
  return tally;
}

/** A link that counts its takes: a pacer that spins on Redis while it waits would show here. */
class CountingLink extends RedisFleetLink {
  takes = 0;

  override takeRate(...args: Parameters<RedisFleetLink['takeRate']>): Promise<number> {
    this.takes++;
    return super.takeRate(...args);
  }
}

describe.skipIf(skipRedis)('pacing shared by the fleet through Redis', () => {
  const scope = fleetTestScope();
  const replica = () => {
    const link = new CountingLink(resolveFleetOptions({ redis: REDIS_URL, keyPrefix: scope.prefix, commandTimeoutMs: 1_000 }), { logger: recordingLogger() });
    scope.track(link);
    const buckets = new RedisRateBuckets(link, KEY, PACING);
    return { link, buckets, pacer: new RatePacer(KEY, PACING, { buckets }) };
  };


  it('lets two replicas together pass no more than what was left plus the refill', async () => {
    const [a, b] = [replica(), replica()];
    const remaining = 4;
    const startedAt = await redisNow(scope.admin);
    await a.pacer.observe(reading(remaining), 200);
    await b.pacer.observe(reading(remaining), 200);
    const [fromA, fromB] = await Promise.all([acquireMany(a.pacer, 8, 500), acquireMany(b.pacer, 8, 500)]);
    const elapsedMs = (await redisNow(scope.admin)) - startedAt;

    expect([...fromA.other, ...fromB.other]).toEqual([]);
    const passed = fromA.passed + fromB.passed;
    expect(passed).toBeGreaterThanOrEqual(remaining);
    // Each replica pacing alone would pass about twice this: its own 4 plus its own refill.
    expect(passed).toBeLessThanOrEqual(remaining + RATE_PER_MS * elapsedMs);
    expect(fromA.refused + fromB.refused).toBe(16 - passed);
    expect(elapsedMs).toBeLessThan(5_000);
  });

  it("holds a replica back on another's 429 and its Retry-After", async () => {
    const [a, b] = [replica(), replica()];
    await b.pacer.observe(reading(LIMIT), 200);
    await a.pacer.observe(reading(0), 429, 400);
    const startedAt = performance.now();
    // B's own mirror still holds its burst; only the fleet knows of the 429.
    const hurried = await b.pacer.acquire({ tokens: 0 }, { maxWaitMs: 100 }).catch((error: unknown) => error);
    expect(isRateLimitWaitExceededError(hurried)).toBe(true);
    // Refused on the fleet's answer, which told the whole wait, not on a guess at its deadline.
    expect((hurried as RateLimitWaitExceededError).retryAfterMs).toBeGreaterThan(200);
    expect(performance.now() - startedAt).toBeLessThan(1_000);
    const patient = await b.pacer.acquire({ tokens: 0 }, { maxWaitMs: 2_000 });
    expect(patient.waitedMs).toBeGreaterThanOrEqual(200);
  });

  it('waits on one answer from Redis per refusal instead of asking again in a loop', async () => {
    const [a, b] = [replica(), replica()];
    await a.pacer.observe(reading(LIMIT), 200);
    await b.pacer.observe(reading(0), 200);
    a.link.takes = 0;
    const tally = await acquireMany(a.pacer, 3, 2_000);

    expect(tally).toEqual({ passed: 3, refused: 0, other: [] });
    // Three passes about 100 ms apart: a refusal and a pass each, and a few more for timers that fire a hair early.
    expect(a.link.takes).toBeGreaterThanOrEqual(4);
    expect(a.link.takes).toBeLessThanOrEqual(15);
  });

  it('asks Redis nothing before a limit is known', async () => {
    const { link, buckets } = replica();
    expect(await buckets.tryTake({ requests: 1, tokens: 100 }, Date.now())).toBe(0);
    expect(link.takes).toBe(0);
  });

  it('lets a need above the whole limit through without leaving the fleet in debt, as in-process pacing does', async () => {
    const { buckets } = replica();
    await buckets.sync({ tokens: { limit: 50, remaining: 50 } }, Date.now());
    expect(await buckets.tryTake({ requests: 1, tokens: 80 }, Date.now())).toBe(0);
    expect(await buckets.tryTake({ requests: 1, tokens: 50 }, Date.now())).toBe(0);
    expect(await buckets.tryTake({ requests: 1, tokens: 10 }, Date.now())).toBeGreaterThan(0);
  });
});

describe('pacing with a fleet link to a Redis that is not there', () => {
  it('paces this process alone, never rejects for Redis and never hangs', async () => {
    const logger = recordingLogger();
    const link = new RedisFleetLink(resolveFleetOptions({ redis: 'redis://127.0.0.1:6390', keyPrefix: uniquePrefix(), commandTimeoutMs: 250 }), { logger });
    const pacer = new RatePacer(KEY, PACING, { buckets: new RedisRateBuckets(link, KEY, PACING) });
    try {
      const startedAt = performance.now();
      await expect(pacer.observe(reading(2), 200)).resolves.toBeUndefined();
      const tally = await acquireMany(pacer, 5, 250);
      const elapsedMs = performance.now() - startedAt;

      expect(tally.other).toEqual([]);
      expect(tally.passed).toBeGreaterThanOrEqual(2);
      // Unpaced, all five would pass. The pacer reads Date.now (whole ms) at both ends of the
      // span measured here: it may see up to 2 ms more of refill than performance.now does.
      expect(tally.passed).toBeLessThanOrEqual(2 + RATE_PER_MS * (elapsedMs + 2));
      expect(tally.passed + tally.refused).toBe(5);
      await expect(pacer.observe(reading(0), 429, 100)).resolves.toBeUndefined();
      expect(elapsedMs).toBeLessThan(3_000);
      expect(logger.warnings).toHaveLength(1);
    } finally {
      await link.close();
    }
  });
});
