import { RateBuckets } from './rate-buckets.js';

const t0 = Date.UTC(2026, 0, 1);
const minute = { windowMs: 60_000, share: 1 };
const one = (tokens = 0) => ({ requests: 1, tokens });

describe('RateBuckets', () => {
  it('holds nothing back before the provider has stated a limit', () => {
    const buckets = new RateBuckets(minute);
    for (let request = 0; request < 1_000; request++) expect(buckets.tryTake(one(1e9), t0)).toBe(0);
    expect(buckets.projectWaits([one(), one()], t0)).toEqual([0, 0]);
  });

  it('starts from what the provider reported remaining and refills at the limit per window', () => {
    const buckets = new RateBuckets(minute);
    buckets.sync({ requests: { limit: 60, remaining: 2 } }, t0);
    expect(buckets.tryTake(one(), t0)).toBe(0);
    expect(buckets.tryTake(one(), t0)).toBe(0);
    expect(buckets.tryTake(one(), t0)).toBe(1_000);
    expect(buckets.tryTake(one(), t0 + 999)).toBeCloseTo(1, 9);
    expect(buckets.tryTake(one(), t0 + 1_000)).toBe(0);
    expect(buckets.toJSON().requests).toEqual({ limit: 60, level: 0, updatedAtMs: t0 + 1_000 });
  });

  it('paces to its share of the limit', () => {
    const buckets = new RateBuckets({ windowMs: 60_000, share: 0.5 });
    buckets.sync({ requests: { limit: 60, remaining: 0 } }, t0);
    expect(buckets.tryTake(one(), t0)).toBe(2_000);
  });

  it('projects the waits of a queue taken in order, on both limits', () => {
    const buckets = new RateBuckets(minute);
    buckets.sync({ requests: { limit: 60, remaining: 1 }, tokens: { limit: 6_000, remaining: 0 } }, t0);
    // Tokens refill at 100 per second, requests at 1 per second.
    expect(buckets.projectWaits([one(50), one(50), one(300)], t0)).toEqual([500, 1_000, 4_000]);
    expect(buckets.projectWaits([one(0), one(0), one(0)], t0)).toEqual([0, 1_000, 2_000]);
    expect(buckets.toJSON().tokens?.level).toBe(0);
  });

  it('never keeps more than the provider reported remaining, and never takes a higher figure from it', () => {
    const buckets = new RateBuckets(minute);
    buckets.sync({ tokens: { limit: 1_000, remaining: 500 } }, t0);
    buckets.sync({ tokens: { remaining: 900 } }, t0);
    expect(buckets.toJSON().tokens?.level).toBe(500);
    buckets.sync({ tokens: { remaining: 120 } }, t0);
    expect(buckets.toJSON().tokens?.level).toBe(120);
    buckets.sync({ tokens: { limit: 100 } }, t0);
    expect(buckets.toJSON().tokens).toEqual({ limit: 100, level: 100, updatedAtMs: t0 });
  });

  it('cannot learn a limit from a remaining figure alone', () => {
    const buckets = new RateBuckets(minute);
    buckets.sync({ requests: { remaining: 0, resetMs: 1_000 } }, t0);
    expect(buckets.tryTake(one(), t0)).toBe(0);
  });

  it('lets a request larger than the whole token limit through, taking no tokens', () => {
    const buckets = new RateBuckets(minute);
    buckets.sync({ requests: { limit: 60, remaining: 60 }, tokens: { limit: 1_000, remaining: 400 } }, t0);
    expect(buckets.tryTake(one(5_000), t0)).toBe(0);
    expect(buckets.toJSON()).toMatchObject({ requests: { level: 59 }, tokens: { level: 400 } });
    expect(buckets.tryTake(one(500), t0)).toBe(6_000);
  });

  it('holds everything while blocked, and an exhausted limit refills from empty', () => {
    const buckets = new RateBuckets(minute);
    buckets.sync({ requests: { limit: 60, remaining: 30 }, tokens: { limit: 6_000, remaining: 6_000 } }, t0);
    buckets.exhaust(['tokens'], t0);
    buckets.block(t0 + 2_000);
    buckets.block(t0 + 1_000);
    expect(buckets.tryTake(one(100), t0)).toBe(2_000);
    expect(buckets.tryTake(one(300), t0)).toBe(3_000);
    expect(buckets.tryTake(one(100), t0 + 2_000)).toBe(0);
    // Two seconds refilled 2 requests and 200 tokens.
    expect(buckets.toJSON()).toMatchObject({ requests: { level: 31 }, tokens: { level: 100 } });
  });

  it('starts from a stored state, which it copies, and refills nothing for a clock behind it', () => {
    const source = new RateBuckets(minute);
    source.sync({ requests: { limit: 60, remaining: 0 } }, t0);
    source.block(t0 + 500);
    const stored = JSON.parse(JSON.stringify(source));
    const copy = new RateBuckets(minute, stored);
    stored.requests.level = 60;
    expect(copy.toJSON()).toEqual(source.toJSON());
    expect(copy.tryTake(one(), t0 - 10_000)).toBe(10_500);
    expect(copy.tryTake(one(), t0 + 1_000)).toBe(0);
    expect(source.tryTake(one(), t0 + 999)).toBeCloseTo(1, 9);
  });
});
