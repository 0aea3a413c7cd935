import { ManualTimers, settle } from '../../testing/manual-timers.js';
import type { ResolvedPacingOptions } from './pacing-options.interface.js';
import { RateBuckets, type RateBucketsPort, type RateBucketsState } from './rate-buckets.js';
import type { RateLimitReading } from './rate-limit-headers.js';
import { isRateLimitWaitExceededError, type RateLimitWaitExceededError } from './rate-limit-wait-exceeded.error.js';
import { type PacingPass, RatePacer } from './rate-pacer.js';

const settings: ResolvedPacingOptions = { windowMs: 60_000, share: 1, maxWaiting: 100 };
// 1 request per second and 100 tokens per second once learnt.
const limits = (requests: number, tokens: number): RateLimitReading => ({ requests: { limit: 60, remaining: requests }, tokens: { limit: 6_000, remaining: tokens } });

interface Tracked {
  status: 'waiting' | 'passed' | 'refused';
  atMs?: number;
  pass?: PacingPass;
  error?: unknown;
}

function setup(options: Partial<ResolvedPacingOptions> = {}, buckets?: RateBucketsPort) {
  const timers = new ManualTimers();
  const t0 = timers.now();
  const pacer = new RatePacer('https://api.example|gpt-x', { ...settings, ...options }, { timers, buckets });
  const order: string[] = [];
  const acquire = (name: string, tokens: number, maxWaitMs = 60_000, signal?: AbortSignal): Tracked => {
    const tracked: Tracked = { status: 'waiting' };
    pacer.acquire({ tokens }, { maxWaitMs, signal }).then(
      (pass) => {
        order.push(name);
        Object.assign(tracked, { status: 'passed', pass, atMs: timers.now() - t0 });
      },
      (error) => Object.assign(tracked, { status: 'refused', error, atMs: timers.now() - t0 }),
    );
    return tracked;
  };
  return { timers, t0, pacer, acquire, order };
}

const refusal = (tracked: Tracked) => tracked.error as RateLimitWaitExceededError;

describe('RatePacer', () => {
  it('lets everything through at once before the provider has said anything', async () => {
    const { timers, acquire } = setup();
    const all = Array.from({ length: 50 }, (_, index) => acquire(`r${index}`, 1e9));
    await settle();
    expect(all.every((tracked) => tracked.status === 'passed' && tracked.pass?.waitedMs === 0)).toBe(true);
    expect(timers.pending).toBe(0);
  });

  it('passes at once while there is room, then waits for the refill', async () => {
    const { timers, pacer, acquire } = setup();
    await pacer.observe(limits(1, 6_000), 200);
    const first = acquire('first', 10);
    const second = acquire('second', 10);
    await settle();
    expect(first).toMatchObject({ status: 'passed', atMs: 0, pass: { waitedMs: 0 } });
    expect(second.status).toBe('waiting');
    expect(pacer.waiting).toBe(1);
    await timers.advance(999);
    expect(second.status).toBe('waiting');
    await timers.advance(1);
    expect(second).toMatchObject({ status: 'passed', atMs: 1_000, pass: { waitedMs: 1_000 } });
  });

  it('serves in FIFO order: a small request never overtakes a large one', async () => {
    const { timers, pacer, acquire, order } = setup();
    await pacer.observe(limits(60, 0), 200);
    const large = acquire('large', 500);
    const small = acquire('small', 10);
    const later = acquire('later', 10);
    await timers.advance(10_000);
    expect(order).toEqual(['large', 'small', 'later']);
    expect([large.atMs, small.atMs, later.atMs]).toEqual([5_000, 5_100, 5_200]);
  });

  it('refuses at once a request whose projected wait, behind the queue, is longer than it may wait', async () => {
    const { timers, pacer, acquire } = setup();
    await pacer.observe(limits(60, 0), 200);
    acquire('large', 500);
    const impatient = acquire('impatient', 10, 5_099);
    const patient = acquire('patient', 10, 5_100);
    await settle();
    expect(impatient).toMatchObject({ status: 'refused', atMs: 0 });
    expect(isRateLimitWaitExceededError(impatient.error)).toBe(true);
    expect(refusal(impatient)).toMatchObject({ reason: 'deadline', retryAfterMs: 5_100, bound: 5_099, key: 'https://api.example|gpt-x' });
    // Waiting exactly as long as it may is in time: its deadline and its turn come at the same moment.
    await timers.advance(5_100);
    expect(patient).toMatchObject({ status: 'passed', atMs: 5_100 });
  });

  it('bounds the queue: one more than maxWaiting is refused at once', async () => {
    const { timers, pacer, acquire } = setup({ maxWaiting: 2 });
    await pacer.observe(limits(0, 6_000), 200);
    const waiting = [acquire('a', 0), acquire('b', 0)];
    const third = acquire('c', 0);
    await settle();
    expect(waiting.map((tracked) => tracked.status)).toEqual(['waiting', 'waiting']);
    expect(third).toMatchObject({ status: 'refused', atMs: 0 });
    expect(refusal(third)).toMatchObject({ reason: 'queue_full', retryAfterMs: 3_000, bound: 2 });
    await timers.advance(1_000);
    const fourth = acquire('d', 0);
    await timers.advance(2_000);
    expect([...waiting, fourth].map((tracked) => tracked.atMs)).toEqual([1_000, 2_000, 3_000]);
  });

  it('with maxWaiting 0, passes while there is room and refuses what would have to wait', async () => {
    const { pacer, acquire } = setup({ maxWaiting: 0 });
    await pacer.observe(limits(1, 6_000), 200);
    const first = acquire('first', 0);
    const second = acquire('second', 0);
    await settle();
    expect(first.status).toBe('passed');
    expect(refusal(second)).toMatchObject({ reason: 'queue_full', retryAfterMs: 1_000 });
  });

  it('after a 429, empties the limit that was hit and holds everyone until the retry-after', async () => {
    const { timers, pacer, acquire } = setup();
    await pacer.observe(limits(30, 6_000), 200);
    await pacer.observe(limits(29, 0), 429, 2_000);
    expect(pacer.toJSON()).toMatchObject({ requests: { level: 29 }, tokens: { level: 0 } });
    const held = acquire('held', 100, 5_000);
    const hurried = acquire('hurried', 0, 1_000);
    await settle();
    expect(refusal(hurried)).toMatchObject({ reason: 'deadline', retryAfterMs: 2_000 });
    await timers.advance(1_999);
    expect(held.status).toBe('waiting');
    await timers.advance(1);
    expect(held).toMatchObject({ status: 'passed', atMs: 2_000 });
  });

  it('a 429 refuses at once the waiters it makes late, and one that says nothing empties both limits', async () => {
    const { timers, pacer, acquire } = setup();
    await pacer.observe(limits(0, 6_000), 200);
    const queued = acquire('queued', 0, 3_000);
    await timers.advance(10);
    await pacer.observe(undefined, 429, 5_000);
    await settle();
    expect(queued).toMatchObject({ status: 'refused', atMs: 10 });
    expect(refusal(queued).retryAfterMs).toBe(5_000);
    expect(pacer.toJSON()).toMatchObject({ requests: { level: 0 }, tokens: { level: 0 }, blockedUntilMs: timers.now() + 5_000 });
  });

  it('leaves the queue on abort, moving those behind up', async () => {
    const { timers, pacer, acquire } = setup();
    await pacer.observe(limits(0, 6_000), 200);
    const controller = new AbortController();
    const aborted = acquire('aborted', 0, 60_000, controller.signal);
    const behind = acquire('behind', 0);
    await timers.advance(500);
    controller.abort(new Error('client went away'));
    await settle();
    expect(aborted).toMatchObject({ status: 'refused', atMs: 500 });
    expect((aborted.error as Error).message).toBe('client went away');
    await timers.advance(500);
    expect(behind).toMatchObject({ status: 'passed', atMs: 1_000 });
    const already = acquire('already', 0, 60_000, AbortSignal.abort(new Error('gone before')));
    await settle();
    expect(already).toMatchObject({ status: 'refused', atMs: 1_000 });
  });

  it('lets through at once a request larger than the whole token limit', async () => {
    const { pacer, acquire } = setup();
    await pacer.observe(limits(60, 6_000), 200);
    const huge = acquire('huge', 50_000);
    await settle();
    expect(huge).toMatchObject({ status: 'passed', atMs: 0 });
    expect(pacer.toJSON()).toMatchObject({ requests: { level: 59 }, tokens: { level: 6_000 } });
  });

  it('round-trips its state through JSON and carries on from it', async () => {
    const { pacer, t0 } = setup();
    await pacer.observe(limits(3, 250), 200);
    await pacer.observe(undefined, 429, 700);
    const stored: RateBucketsState = JSON.parse(JSON.stringify(pacer));
    expect(stored).toEqual({ requests: { limit: 60, level: 0, updatedAtMs: t0 }, tokens: { limit: 6_000, level: 0, updatedAtMs: t0 }, blockedUntilMs: t0 + 700 });
    const timers = new ManualTimers(t0);
    const restored = new RatePacer('https://api.example|gpt-x', settings, { timers, initialState: stored });
    expect(restored.toJSON()).toEqual(stored);
    let waitedMs: number | undefined;
    void restored.acquire({ tokens: 150 }, { maxWaitMs: 5_000 }).then((pass) => (waitedMs = pass.waitedMs));
    await timers.advance(5_000);
    expect(waitedMs).toBe(1_500);
  });
});

describe('RatePacer on the system timers', () => {
  it('waits for the refill on real timers when no seam is given', async () => {
    const pacer = new RatePacer('https://api.example|gpt-x', { windowMs: 1_000, share: 1, maxWaiting: 10 });
    // 50 requests per second: room for the next one in 20 ms.
    await pacer.observe({ requests: { limit: 50, remaining: 0 } }, 200);
    const pass = await pacer.acquire({ tokens: 0 }, { maxWaitMs: 5_000 });
    expect(pass.waitedMs).toBeGreaterThanOrEqual(15);
    expect(pacer.waiting).toBe(0);
  });
});

/** The same buckets behind promises, as a store shared by a fleet would answer. */
function remote(buckets: RateBuckets): RateBucketsPort {
  return {
    tryTake: async (need, nowMs) => buckets.tryTake(need, nowMs),
    projectWaits: async (needs, nowMs) => buckets.projectWaits(needs, nowMs),
    sync: async (reading, nowMs) => buckets.sync(reading, nowMs),
    exhaust: async (dimensions, nowMs) => buckets.exhaust(dimensions, nowMs),
    block: async (untilMs) => buckets.block(untilMs),
  };
}

describe('RatePacer on buckets that answer through promises', () => {
  it('keeps FIFO order, refuses at once and waits the same', async () => {
    const { timers, pacer, acquire, order } = setup({}, remote(new RateBuckets(settings)));
    await pacer.observe(limits(60, 0), 200);
    const large = acquire('large', 500);
    const impatient = acquire('impatient', 10, 1_000);
    const small = acquire('small', 10);
    await settle();
    expect(refusal(impatient)).toMatchObject({ reason: 'deadline', retryAfterMs: 5_100 });
    await timers.advance(10_000);
    expect(order).toEqual(['large', 'small']);
    expect([large.atMs, small.atMs]).toEqual([5_000, 5_100]);
    expect(pacer.toJSON()).toBeUndefined();
  });

  it('fails the waiters with the store error when the store fails', async () => {
    const failing: RateBucketsPort = { ...remote(new RateBuckets(settings)), tryTake: async () => Promise.reject(new Error('store down')) };
    const { acquire } = setup({}, failing);
    const waiter = acquire('waiter', 0);
    await settle();
    expect(waiter.status).toBe('refused');
    expect((waiter.error as Error).message).toBe('store down');
  });
});
