import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/** The Redis the fleet tests use: this machine's, unless RESILIENT_LLM_TEST_REDIS_URL says otherwise. */
export const REDIS_URL = process.env.RESILIENT_LLM_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A client for the test's own checks and cleanup, never the code under test. */
export function adminClient(url = REDIS_URL): Redis {
  return new Redis(url, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 1, retryStrategy: () => null });
}

async function reachable(): Promise<boolean> {
  const client = adminClient();
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** Whether to skip the Redis tests: only when none is reachable and CI is not set; in CI they run and fail. */
export async function skipWithoutRedis(): Promise<boolean> {
  if (await reachable()) return false;
  if (process.env.CI) return false;
  console.warn(`NOTICE: no Redis at ${REDIS_URL}; skipping the fleet-wide storm state tests (they run in CI).`);
  return true;
}

/** A key prefix of its own per test, so that tests running in parallel never share state. */
export function uniquePrefix(): string {
  return `rl-test-${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under a prefix. */
export async function dropPrefix(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length > 0) await client.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** Redis's clock in epoch ms, the one the rate buckets use. */
export async function redisNow(client: Redis): Promise<number> {
  const [seconds, micros] = await client.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/**
 * A describe block's Redis scope: an admin client for the test's own checks, a key prefix of its
 * own per test, and the links a test makes (`track`) closed and its keys dropped after it.
 */
export function fleetTestScope(): { readonly admin: Redis; readonly prefix: string; track<T extends { close(): Promise<void> }>(link: T): T } {
  let admin: Redis;
  let prefix = '';
  const links: Array<{ close(): Promise<void> }> = [];
  beforeAll(async () => {
    admin = adminClient();
    await admin.connect();
  });
  beforeEach(() => {
    prefix = uniquePrefix();
  });
  afterEach(async () => {
    await Promise.all(links.splice(0).map((link) => link.close()));
    await dropPrefix(admin, prefix);
  });
  afterAll(() => admin.disconnect());
  return {
    get admin() {
      return admin;
    },
    get prefix() {
      return prefix;
    },
    track: (link) => {
      links.push(link);
      return link;
    },
  };
}

/** A logger that records, to count how often an outage is reported. */
export function recordingLogger(): { warn(message: string): void; log(message: string): void; warnings: string[]; logs: string[] } {
  const warnings: string[] = [];
  const logs: string[] = [];
  return { warnings, logs, warn: (message) => warnings.push(message), log: (message) => logs.push(message) };
}

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, 'close');
  return port;
}

/** A throwaway redis-server of the test's own on `port`, to kill and restart; resolves once it answers PING. */
export async function startPrivateRedis(port: number): Promise<{ stop(): Promise<void>; pause(): void; resume(): void }> {
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const exited = once(child, 'exit');
  const probe = adminClient(`redis://127.0.0.1:${port}`);
  probe.on('error', () => undefined);
  try {
    for (let tries = 0; ; tries++) {
      try {
        if (probe.status !== 'ready') await probe.connect();
        if ((await probe.ping()) === 'PONG') break;
      } catch (error) {
        if (tries > 200 || child.exitCode !== null) throw error;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  } finally {
    probe.disconnect();
  }
  return {
    // A stopped process keeps its sockets open and answers nothing: a hung Redis, not a dead one.
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    stop: async () => {
      if (child.exitCode !== null || (child.signalCode !== null && child.signalCode !== 'SIGSTOP')) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}
