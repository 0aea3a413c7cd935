import { once } from 'node:events';
import { createServer } from 'node:net';
import { RateBuckets, type RateBucketsSettings } from '../pacing/rate-buckets.js';
import { resolveFleetOptions } from './fleet-options.validation.js';
import { RedisFleetLink } from './redis-fleet.link.js';
import { RedisRateBuckets } from './redis-rate-buckets.js';

const SETTINGS: RateBucketsSettings = { windowMs: 1_000, share: 0.5 };
const T0 = Date.UTC(2026, 0, 1);

/** A loopback port that refuses connections: a Redis that is down, for real. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

describe('RedisRateBuckets while Redis is down', () => {
  let link: RedisFleetLink;
  const warnings: string[] = [];

  beforeEach(async () => {
    warnings.length = 0;
    const options = resolveFleetOptions({ redis: `redis://127.0.0.1:${await closedPort()}`, commandTimeoutMs: 250 });
    link = new RedisFleetLink(options, { logger: { warn: (message) => warnings.push(message), log: () => undefined } });
  });
  afterEach(() => link.close());

  it('passes without asking Redis while no limit is known, yet honours a local block', async () => {
    const buckets = new RedisRateBuckets(link, 'k', SETTINGS);
    expect(await buckets.tryTake({ requests: 1, tokens: 1_000 }, T0)).toBe(0);
    expect(warnings).toEqual([]);
    await buckets.block(T0 + 300);
    expect(await buckets.tryTake({ requests: 1, tokens: 1 }, T0 + 100)).toBe(200);
  });

  it('answers every call exactly as in-process buckets would, and never rejects', async () => {
    const shared = new RedisRateBuckets(link, 'k', SETTINGS);
    const local = new RateBuckets(SETTINGS);
    const need = { requests: 1, tokens: 30 };
    const both = async <T>(call: (buckets: RateBuckets | RedisRateBuckets) => T | Promise<T>) => {
      const expected = await call(local);
      expect(await call(shared)).toEqual(expected);
      return expected;
    };

    await both((buckets) => buckets.sync({ requests: { limit: 4, remaining: 3 }, tokens: { limit: 100, remaining: 100 } }, T0));
    const takes = [];
    for (let i = 0; i < 5; i++) takes.push(await both((buckets) => buckets.tryTake(need, T0 + i)));
    expect(takes.filter((waitMs) => waitMs === 0)).toHaveLength(3);
    await both((buckets) => buckets.projectWaits([need, need, need], T0 + 10));
    await both((buckets) => buckets.exhaust(['tokens'], T0 + 20));
    expect(await both((buckets) => buckets.tryTake(need, T0 + 20))).toBeGreaterThan(0);
    await both((buckets) => buckets.block(T0 + 5_000));
    expect(await both((buckets) => buckets.tryTake({ requests: 0, tokens: 0 }, T0 + 1_000))).toBe(4_000);
    expect(shared.toJSON()).toEqual(local.toJSON());
    // The link tells of the outage once, however many calls fell back.
    expect(warnings).toHaveLength(1);
  });
});
