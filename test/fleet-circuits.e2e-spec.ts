import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import type { Redis } from 'ioredis';
import { type FleetCircuitSnapshot, RedisFleetLink, resolveFleetOptions } from '../libs/resilient-llm/src/storm/fleet/index.js';
import { REDIS_URL, adminClient, dropPrefix, recordingLogger, fleetTestScope, skipWithoutRedis, uniquePrefix } from './support/fleet-redis.js';

const skipRedis = await skipWithoutRedis();
const root = resolve(import.meta.dirname, '..');

type Heard = { key: string; snapshot: FleetCircuitSnapshot; origin: string; at: number };

/** Waits until `count` subscribers listen on the circuit channel, so that no test publishes into the void. */
async function subscribers(admin: Redis, prefix: string, count: number): Promise<void> {
  await vi.waitFor(async () => {
    const [, listening] = (await admin.pubsub('NUMSUB', `${prefix}circuits`)) as [string, number];
    expect(listening).toBeGreaterThanOrEqual(count);
  }, { timeout: 5_000, interval: 10 });
}

describe.skipIf(skipRedis)('fleet-wide circuits through Redis', () => {
  const scope = fleetTestScope();
  const link = () => {
    const created = new RedisFleetLink(resolveFleetOptions({ redis: REDIS_URL, keyPrefix: scope.prefix }), { logger: recordingLogger() });
    scope.track(created);
    return created;
  };


  it("one replica's open circuit reaches the other within 1 s, and never echoes back to itself", async () => {
    const [a, b] = [link(), link()];
    const heardByA: Heard[] = [];
    const heardByB: Heard[] = [];
    a.onCircuit((key, snapshot, origin) => heardByA.push({ key, snapshot, origin, at: performance.now() }));
    b.onCircuit((key, snapshot, origin) => heardByB.push({ key, snapshot, origin, at: performance.now() }));
    await subscribers(scope.admin, scope.prefix, 2);

    const sentAt = performance.now();
    await a.publishCircuit('https://api.example|gpt-4.1', { state: 'open', openedAt: 1_000 });
    await vi.waitFor(() => expect(heardByB).toHaveLength(1), { timeout: 1_000, interval: 5 });

    expect(heardByB[0]).toMatchObject({ key: 'https://api.example|gpt-4.1', snapshot: { state: 'open', openedAt: 1_000 }, origin: a.instanceId });
    expect(heardByB[0].at - sentAt).toBeLessThan(1_000);
    expect(heardByA).toEqual([]);
  });

  it('a replica that starts later reads the state last published', async () => {
    const a = link();
    expect(await a.readCircuit('m')).toBeNull();
    await a.publishCircuit('m', { state: 'open', openedAt: 5 });
    await a.publishCircuit('m', { state: 'half_open', openedAt: 5 });

    expect(await link().readCircuit('m')).toEqual({ state: 'half_open', openedAt: 5 });
    const ttl = await scope.admin.pttl(`${scope.prefix}circuit:m`);
    expect(ttl).toBeGreaterThan(0);
  });

  it('lets exactly one replica fleet-wide claim the half-open probe until the claim expires', async () => {
    const replicas = [link(), link(), link()];
    const claims = await Promise.all(replicas.flatMap((replica) => [replica.claimProbe('m', 5_000), replica.claimProbe('m', 5_000)]));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await replicas[0].claimProbe('other-model', 5_000)).toBe(true);

    // Let the claim expire by hand rather than by waiting: the next probe is anyone's again.
    await scope.admin.pexpire(`${scope.prefix}probe:m`, 1);
    await vi.waitFor(async () => expect(await scope.admin.exists(`${scope.prefix}probe:m`)).toBe(0), { timeout: 1_000, interval: 5 });
    expect(await replicas[2].claimProbe('m', 5_000)).toBe(true);
  });

  it('replays the circuits it knows when its subscription starts, so that one published before is not missed', async () => {
    const [a, b] = [link(), link()];
    expect(await b.readCircuit('m')).toBeNull();
    await a.publishCircuit('m', { state: 'open', openedAt: 42 });
    const heard: Heard[] = [];
    b.onCircuit((key, snapshot, origin) => heard.push({ key, snapshot, origin, at: 0 }));
    await vi.waitFor(() => expect(heard).toHaveLength(1), { timeout: 2_000, interval: 5 });
    expect(heard[0]).toMatchObject({ key: 'm', snapshot: { state: 'open', openedAt: 42 }, origin: a.instanceId });
  });

  it('ignores messages on its channel that are not circuit records, and a throwing listener stops nobody', async () => {
    const b = link();
    const heard: string[] = [];
    b.onCircuit(() => {
      throw new Error('a listener bug');
    });
    b.onCircuit((key) => heard.push(key));
    await subscribers(scope.admin, scope.prefix, 1);
    await scope.admin.publish(`${scope.prefix}circuits`, 'not json');
    await scope.admin.publish(`${scope.prefix}circuits`, JSON.stringify({ key: 'm', state: 'sideways', openedAt: 1, origin: 'x' }));
    await link().publishCircuit('m', { state: 'closed', openedAt: 1 });
    await vi.waitFor(() => expect(heard).toEqual(['m']), { timeout: 1_000, interval: 5 });
  });
});

describe.skipIf(skipRedis)('fleet-wide circuits across two OS processes', () => {
  let child: ChildProcess | undefined;
  let admin: Redis;
  const prefix = uniquePrefix();

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    await dropPrefix(admin, prefix);
    admin.disconnect();
  });

  it('each process sees the other open a circuit within 1 s', async () => {
    admin = adminClient();
    await admin.connect();
    child = spawn(process.execPath, ['--import', 'tsx', 'test/support/fleet-circuit-process.ts'], {
      cwd: root,
      env: { ...process.env, FLEET_REDIS_URL: REDIS_URL, FLEET_PREFIX: prefix },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await vi.waitFor(() => expect(output).toMatch(/READY (\S+)/), { timeout: 20_000, interval: 20 });
    const childId = /READY (\S+)/.exec(output)![1];

    const parent = new RedisFleetLink(resolveFleetOptions({ redis: REDIS_URL, keyPrefix: prefix }), { logger: recordingLogger() });
    const heard: Heard[] = [];
    parent.onCircuit((key, snapshot, origin) => heard.push({ key, snapshot, origin, at: performance.now() }));
    try {
      await subscribers(admin, prefix, 2);

      let sentAt = performance.now();
      await parent.publishCircuit('from-parent', { state: 'open', openedAt: 7 });
      await vi.waitFor(() => expect(output).toContain('CIRCUIT {"key":"from-parent"'), { timeout: 1_000, interval: 5 });
      expect(performance.now() - sentAt).toBeLessThan(1_000);
      expect(output).toContain(`"origin":"${parent.instanceId}"`);

      sentAt = performance.now();
      child.stdin!.write('OPEN from-child 9\n');
      await vi.waitFor(() => expect(heard).toHaveLength(1), { timeout: 1_000, interval: 5 });
      expect(heard[0]).toMatchObject({ key: 'from-child', snapshot: { state: 'open', openedAt: 9 }, origin: childId });
      expect(heard[0].at - sentAt).toBeLessThan(1_000);
    } finally {
      await parent.close();
    }
  });
});
