import type { Redis } from 'ioredis';
import { RedisFleetLink, resolveFleetOptions } from '../libs/resilient-llm/src/storm/fleet/index.js';
import type { RetryBudgetSettings } from '../libs/resilient-llm/src/storm/retry-budget.js';
import { REDIS_URL, recordingLogger, fleetTestScope, skipWithoutRedis } from './support/fleet-redis.js';

const skipRedis = await skipWithoutRedis();

const THROTTLE: RetryBudgetSettings = { mode: 'throttle', maxTokens: 10, tokenRatio: 0.5, ratio: 0.1 };
const RATIO: RetryBudgetSettings = { mode: 'ratio', maxTokens: 10, tokenRatio: 0.1, ratio: 0.5 };
// Far longer than any test: pushes happen when a test flushes, except in the test of the timer itself.
const NO_TICKS_MS = 60_000;

describe.skipIf(skipRedis)('a retry budget shared by the fleet through Redis', () => {
  const scope = fleetTestScope();
  const replica = (syncMs = NO_TICKS_MS) => {
    const link = new RedisFleetLink(resolveFleetOptions({ redis: REDIS_URL, keyPrefix: scope.prefix, syncMs }), { logger: recordingLogger() });
    scope.track(link);
    return link;
  };


  it('decides from the local mirror at once and converges on the fleet level once both replicas have pushed', async () => {
    const a = replica().retryBudget('upstream', THROTTLE);
    const b = replica().retryBudget('upstream', THROTTLE);
    for (let i = 0; i < 3; i++) a.onFailure();
    for (let i = 0; i < 4; i++) b.onFailure();
    expect([a.available, b.available]).toEqual([7, 6]);
    expect([a.tryRetry(), b.tryRetry()]).toEqual([true, true]);

    await a.flush();
    await b.flush();
    await a.flush();
    expect([a.available, b.available]).toEqual([3, 3]);
    expect(Number(await scope.admin.get(`${scope.prefix}budget:upstream`))).toBe(3);
    // Each replica alone would still retry (7 and 6 > 5); the fleet's 3 stops both.
    expect([a.tryRetry(), b.tryRetry()]).toEqual([false, false]);

    for (let i = 0; i < 4; i++) b.onSuccess();
    await b.flush();
    await a.flush();
    expect([a.available, b.available]).toEqual([5, 5]);
  });

  it('clamps the fleet level to [0, maxTokens] however large the summed delta', async () => {
    const a = replica().retryBudget('upstream', THROTTLE);
    for (let i = 0; i < 25; i++) a.onFailure();
    await a.flush();
    expect(a.available).toBe(0);
    expect(Number(await scope.admin.get(`${scope.prefix}budget:upstream`))).toBe(0);

    for (let i = 0; i < 100; i++) a.onSuccess();
    await a.flush();
    expect(a.available).toBe(10);
    expect(Number(await scope.admin.get(`${scope.prefix}budget:upstream`))).toBe(10);
  });

  it('keeps changes made while a push is out for the next push', async () => {
    const a = replica().retryBudget('upstream', THROTTLE);
    a.onFailure();
    const pushed = a.flush();
    a.onFailure();
    await pushed;
    expect(a.available).toBe(8);
    expect(Number(await scope.admin.get(`${scope.prefix}budget:upstream`))).toBe(9);
    await a.flush();
    expect(Number(await scope.admin.get(`${scope.prefix}budget:upstream`))).toBe(8);
  });

  it('in ratio mode, retries spent by two replicas come out of one bucket', async () => {
    const a = replica().retryBudget('upstream', RATIO);
    const b = replica().retryBudget('upstream', RATIO);
    const spent = (budget: typeof a) => Array.from({ length: 6 }, () => budget.tryRetry()).filter(Boolean).length;
    expect([spent(a), spent(b)]).toEqual([6, 6]);
    await a.flush();
    await b.flush();
    await a.flush();
    expect([a.available, b.available]).toEqual([0, 0]);
    expect([a.tryRetry(), b.tryRetry()]).toEqual([false, false]);

    for (let i = 0; i < 4; i++) b.onFirstAttempt();
    await b.flush();
    await a.flush();
    expect(a.available).toBe(2);
    expect(a.tryRetry()).toBe(true);
  });

  it("an operator's reset refills the fleet's bucket", async () => {
    const a = replica().retryBudget('upstream', THROTTLE);
    const b = replica().retryBudget('upstream', THROTTLE);
    for (let i = 0; i < 8; i++) a.onFailure();
    await a.flush();
    await b.flush();
    expect(b.available).toBe(2);
    b.reset();
    await b.flush();
    await a.flush();
    expect([a.available, b.available]).toEqual([10, 10]);
  });

  it('pushes on its own every syncMs: a replica that changed nothing adopts the level another drained', async () => {
    const a = replica(20).retryBudget('upstream', THROTTLE);
    const b = replica(20).retryBudget('upstream', THROTTLE);
    for (let i = 0; i < 6; i++) a.onFailure();
    await vi.waitFor(() => expect(b.available).toBe(4), { timeout: 2_000, interval: 10 });
    expect(a.available).toBe(4);
  });

  it('is one object per key and process, and separate keys are separate buckets', async () => {
    const link = replica();
    expect(link.retryBudget('one', THROTTLE)).toBe(link.retryBudget('one', THROTTLE));
    const other = link.retryBudget('two', THROTTLE);
    link.retryBudget('one', THROTTLE).onFailure();
    await link.retryBudget('one', THROTTLE).flush();
    await other.flush();
    expect(other.available).toBe(10);
  });

  it('pushes what is left when the link closes', async () => {
    const link = replica();
    link.retryBudget('upstream', THROTTLE).onFailure();
    await link.close();
    expect(Number(await scope.admin.get(`${scope.prefix}budget:upstream`))).toBe(9);
    expect(await scope.admin.pttl(`${scope.prefix}budget:upstream`)).toBeGreaterThan(0);
  });
});
