import type { Redis } from 'ioredis';
import { RedisFleetLink, resolveFleetOptions } from '../libs/resilient-llm/src/storm/fleet/index.js';
import { REDIS_URL, recordingLogger, redisNow, fleetTestScope, skipWithoutRedis } from './support/fleet-redis.js';

const skipRedis = await skipWithoutRedis();

const ONE_REQUEST = { requests: 1, tokens: 0 };
// One request a second: a refused take waits close to 1,000 ms, far above the few ms the test takes.
const SLOW = { requestsPerMs: 0.001, requestCapacity: 3 };

describe.skipIf(skipRedis)('rate buckets shared by the fleet through Redis', () => {
  const scope = fleetTestScope();
  const replica = () => {
    const link = new RedisFleetLink(resolveFleetOptions({ redis: REDIS_URL, keyPrefix: scope.prefix, commandTimeoutMs: 2_000 }), { logger: recordingLogger() });
    scope.track(link);
    return link;
  };


  it('grants the burst, then answers how long until the next request fits', async () => {
    const link = replica();
    const takes = [];
    for (let i = 0; i < 4; i++) takes.push(await link.takeRate('openai', ONE_REQUEST, SLOW));
    expect(takes.slice(0, 3)).toEqual([0, 0, 0]);
    expect(takes[3]).toBeGreaterThan(500);
    expect(takes[3]).toBeLessThanOrEqual(1_000);
    // Keys expire once idle: no longer than it takes the bucket to fill again, plus a second.
    const ttl = await scope.admin.pttl(`${scope.prefix}rate:openai`);
    expect(ttl).toBeGreaterThan(2_000);
    expect(ttl).toBeLessThanOrEqual(4_000);
  });

  it('takes from both buckets or from neither', async () => {
    const link = replica();
    const limits = { requestsPerMs: 0.001, requestCapacity: 2, tokensPerMs: 0.001, tokenCapacity: 10 };
    expect(await link.takeRate('k', { requests: 1, tokens: 8 }, limits)).toBe(0);
    expect(await link.takeRate('k', { requests: 1, tokens: 8 }, limits)).toBeGreaterThan(0);
    // The refused take above left its request in the bucket.
    expect(await link.takeRate('k', { requests: 1, tokens: 2 }, limits)).toBe(0);
    expect(await link.takeRate('k', { requests: 1, tokens: 0 }, limits)).toBeGreaterThan(0);
  });

  it('lets a need above capacity through on a full bucket and leaves the debt to wait out', async () => {
    const link = replica();
    const limits = { tokensPerMs: 0.01, tokenCapacity: 5 };
    expect(await link.takeRate('k', { requests: 0, tokens: 8 }, limits)).toBe(0);
    const wait = await link.takeRate('k', { requests: 0, tokens: 1 }, limits);
    // Level -3; one token more is 4 tokens at 0.01 per ms.
    expect(wait).toBeGreaterThan(300);
    expect(wait).toBeLessThanOrEqual(400);
  });

  it("lowers a bucket to the provider's remaining count, never raises it", async () => {
    const link = replica();
    const limits = { requestsPerMs: 0.001, requestCapacity: 10 };
    expect(await link.takeRate('k', ONE_REQUEST, limits)).toBe(0);
    await link.syncRate('k', { requests: 50 });
    await link.syncRate('k', { requests: 2 });
    await link.syncRate('k', { requests: 40 });
    expect(await link.takeRate('k', ONE_REQUEST, limits)).toBe(0);
    expect(await link.takeRate('k', ONE_REQUEST, limits)).toBe(0);
    expect(await link.takeRate('k', ONE_REQUEST, limits)).toBeGreaterThan(500);
  });

  it('holds every replica back until a block ends; an earlier block does not shorten it', async () => {
    const [a, b] = [replica(), replica()];
    const now = await redisNow(scope.admin);
    await a.blockRate('k', now + 800);
    await a.blockRate('k', now + 100);
    const wait = await b.takeRate('k', ONE_REQUEST, SLOW);
    expect(wait).toBeGreaterThan(500);
    expect(wait).toBeLessThanOrEqual(800);
    expect(await scope.admin.pttl(`${scope.prefix}rate:k`)).toBeGreaterThan(0);
  });

  it('never grants more than capacity + rate * elapsed across concurrent takers on two replicas', async () => {
    const [a, b] = [replica(), replica()];
    const limits = { requestsPerMs: 0.05, requestCapacity: 5, tokensPerMs: 2, tokenCapacity: 60 };
    const need = { requests: 1, tokens: 10 };
    const startedAt = await redisNow(scope.admin);
    const granted = { requests: 0, tokens: 0 };
    const taker = async (link: RedisFleetLink) => {
      while ((await redisNow(scope.admin)) - startedAt < 300) {
        const wait = await link.takeRate('k', need, limits);
        if (wait === 0) {
          granted.requests += need.requests;
          granted.tokens += need.tokens;
        } else await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 5)));
      }
    };
    await Promise.all([a, b, a, b, a, b].map(taker));
    const elapsed = (await redisNow(scope.admin)) - startedAt;

    expect(granted.requests).toBeGreaterThanOrEqual(5);
    expect(granted.requests).toBeLessThanOrEqual(5 + 0.05 * elapsed);
    expect(granted.tokens).toBeLessThanOrEqual(60 + 2 * elapsed);
  });

  it('refuses bad limits without touching Redis', async () => {
    const link = replica();
    await expect(link.takeRate('k', ONE_REQUEST, { requestsPerMs: 0 })).rejects.toThrow(/rate must be a number > 0/);
    await expect(link.takeRate('k', ONE_REQUEST, { requestsPerMs: 1, requestCapacity: -1 })).rejects.toThrow(/capacity must be a number > 0/);
    await expect(link.blockRate('k', Number.NaN)).rejects.toThrow(/untilEpochMs must be finite/);
    expect(await scope.admin.exists(`${scope.prefix}rate:k`)).toBe(0);
  });
});
