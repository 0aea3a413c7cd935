import { once } from 'node:events';
import { type Server, type Socket, createServer } from 'node:net';
import { Redis } from 'ioredis';
import { RedisFleetLink, isFleetUnavailableError, resolveFleetOptions } from '../libs/resilient-llm/src/storm/fleet/index.js';
import { systemTimers } from '../libs/resilient-llm/src/time/timers.js';
import type { RetryBudgetSettings } from '../libs/resilient-llm/src/storm/retry-budget.js';
import { REDIS_URL, adminClient, dropPrefix, freePort, recordingLogger, skipWithoutRedis, startPrivateRedis, uniquePrefix } from './support/fleet-redis.js';

const skipRedis = await skipWithoutRedis();

const TIMEOUT_MS = 100;
// Generous for a loaded machine, and still far below what a hung connection would take.
const SLACK_MS = 150;
const THROTTLE: RetryBudgetSettings = { mode: 'throttle', maxTokens: 10, tokenRatio: 0.5, ratio: 0.1 };

/** Every method of the link, each one settled and timed. */
async function everyMethod(link: RedisFleetLink): Promise<Array<{ method: string; ms: number; error: unknown }>> {
  const calls: Record<string, () => Promise<unknown>> = {
    publishCircuit: () => link.publishCircuit('m', { state: 'open', openedAt: 1 }),
    readCircuit: () => link.readCircuit('m'),
    claimProbe: () => link.claimProbe('m', 1_000),
    pushRetryBudget: () => link.pushRetryBudget('b', 10, -1),
    takeRate: () => link.takeRate('r', { requests: 1, tokens: 1 }, { requestsPerMs: 1 }),
    syncRate: () => link.syncRate('r', { requests: 1 }),
    blockRate: () => link.blockRate('r', Date.now() + 1_000),
  };
  const results = [];
  for (const [method, call] of Object.entries(calls)) {
    const started = performance.now();
    const error = await call().then(() => undefined, (failure: unknown) => failure);
    results.push({ method, ms: performance.now() - started, error });
  }
  return results;
}

function expectAllFellBack(results: Awaited<ReturnType<typeof everyMethod>>): void {
  for (const { method, ms, error } of results) {
    expect(isFleetUnavailableError(error), `${method} rejects with FleetUnavailableError`).toBe(true);
    expect(ms, `${method} settles in time`).toBeLessThan(TIMEOUT_MS + SLACK_MS);
  }
}

/** A TCP server that accepts and never answers: a hung Redis, the case the deadline exists for. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => sockets.add(socket)).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

describe('the fleet link without a Redis to talk to', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeAll(() => process.on('unhandledRejection', onUnhandled));
  afterAll(() => process.off('unhandledRejection', onUnhandled));

  it.each([
    ['nothing listens on the port', async () => ({ port: await freePort(), close: async () => undefined })],
    ['the server accepts and never answers', silentServer],
  ])('settles every method within commandTimeoutMs when %s, logs once, and the budget goes on locally', async (_, listen) => {
    const server = await listen();
    const logger = recordingLogger();
    const link = new RedisFleetLink(resolveFleetOptions({ redis: `redis://127.0.0.1:${server.port}`, keyPrefix: uniquePrefix(), commandTimeoutMs: TIMEOUT_MS }), { logger });
    const heard: string[] = [];
    link.onCircuit((key) => heard.push(key));
    const budget = link.retryBudget('b', THROTTLE);
    try {
      expectAllFellBack(await everyMethod(link));
      expectAllFellBack(await everyMethod(link));

      for (let i = 0; i < 3; i++) budget.onFailure();
      const started = performance.now();
      await budget.flush();
      expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + SLACK_MS);
      expect(budget.available).toBe(7);
      expect(budget.tryRetry()).toBe(true);
      expect(logger.warnings).toHaveLength(1);
      expect(logger.warnings[0]).toMatch(/using this process's own/);
      expect(heard).toEqual([]);
    } finally {
      const closing = performance.now();
      await link.close();
      expect(performance.now() - closing).toBeLessThan(2 * TIMEOUT_MS + SLACK_MS);
      await server.close();
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled).toEqual([]);
  });
});

describe.skipIf(skipRedis)('the fleet link when Redis goes away and comes back', () => {
  it('falls back at once while Redis is down, then resumes commands and circuit messages on its own', async () => {
    const port = await freePort();
    let redis = await startPrivateRedis(port);
    const logger = recordingLogger();
    const options = (keyPrefix: string) =>
      resolveFleetOptions({ redis: { host: '127.0.0.1', port, retryStrategy: () => 20 }, keyPrefix, commandTimeoutMs: TIMEOUT_MS });
    const prefix = uniquePrefix();
    const a = new RedisFleetLink(options(prefix), { logger });
    const b = new RedisFleetLink(options(prefix), { logger: recordingLogger() });
    const heard: Array<{ key: string; state: string }> = [];
    a.onCircuit((key, snapshot) => heard.push({ key, state: snapshot.state }));
    try {
      expect(await a.claimProbe('warm-up', 1_000)).toBe(true);
      expect(await a.readCircuit('m')).toBeNull();

      await redis.stop();
      expectAllFellBack(await everyMethod(a));
      expect(logger.warnings).toHaveLength(1);

      redis = await startPrivateRedis(port);
      await vi.waitFor(async () => expect(await a.claimProbe('after', 1_000)).toBe(true), { timeout: 5_000, interval: 20 });
      expect(logger.logs).toHaveLength(1);
      expect(logger.logs[0]).toMatch(/Redis answers again/);

      // Whether a's subscriber is back before or after b publishes, a learns of it.
      await vi.waitFor(async () => expect(await b.readCircuit('x')).toBeNull(), { timeout: 5_000, interval: 20 });
      await b.publishCircuit('m', { state: 'open', openedAt: 3 });
      await vi.waitFor(() => expect(heard).toContainEqual({ key: 'm', state: 'open' }), { timeout: 5_000, interval: 20 });
    } finally {
      await Promise.all([a.close(), b.close()]);
      await redis.stop();
    }
  });

  it('pays the timeout once when a connected Redis stops answering, fails at once for a while, then tries again', async () => {
    const port = await freePort();
    const redis = await startPrivateRedis(port);
    // Real timers for the deadlines; a clock the test moves past the hold-off instead of waiting it out.
    const clock = { skipped: 0 };
    const timers = { ...systemTimers(), now: () => Date.now() + clock.skipped };
    const link = new RedisFleetLink(resolveFleetOptions({ redis: `redis://127.0.0.1:${port}`, keyPrefix: uniquePrefix(), commandTimeoutMs: TIMEOUT_MS }), { logger: recordingLogger(), timers });
    try {
      expect(await link.claimProbe('before', 1_000)).toBe(true);
      redis.pause();
      const [first, ...rest] = await everyMethod(link);
      expect(first.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
      expectAllFellBack([first, ...rest]);
      for (const { method, ms } of rest) expect(ms, `${method} fails at once`).toBeLessThan(TIMEOUT_MS / 2);

      redis.resume();
      expect(isFleetUnavailableError(await link.claimProbe('held-off', 1_000).catch((error: unknown) => error))).toBe(true);
      clock.skipped += 1_000;
      expect(await link.claimProbe('after', 1_000)).toBe(true);
    } finally {
      redis.resume();
      await link.close();
      await redis.stop();
    }
  });

  it("leaves a client passed in open and working; closes only the subscriber it made", async () => {
    const prefix = uniquePrefix();
    const client = new Redis(REDIS_URL);
    const admin = adminClient();
    await admin.connect();
    try {
      const link = new RedisFleetLink(resolveFleetOptions({ redis: client, keyPrefix: prefix }), { logger: recordingLogger() });
      link.onCircuit(() => undefined);
      await vi.waitFor(async () => expect(((await admin.pubsub('NUMSUB', `${prefix}circuits`)) as [string, number])[1]).toBe(1), { timeout: 5_000, interval: 10 });
      expect(await link.claimProbe('m', 1_000)).toBe(true);
      await link.close();

      expect(client.status).toBe('ready');
      expect(await client.ping()).toBe('PONG');
      await vi.waitFor(async () => expect(((await admin.pubsub('NUMSUB', `${prefix}circuits`)) as [string, number])[1]).toBe(0), { timeout: 5_000, interval: 10 });
    } finally {
      await dropPrefix(admin, prefix);
      client.disconnect();
      admin.disconnect();
    }
  });
});
