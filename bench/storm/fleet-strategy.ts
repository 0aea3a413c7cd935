import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { CircuitTransitionEvent } from './module-strategy.js';
import type { ReplicaCommand, ReplicaMessage } from './fleet-replica-process.js';
import type { Strategy, StrategyContext, StrategyInstance } from './strategies.js';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** One replica process, driven over IPC: each command answered once, in any order. */
class Replica {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private exited?: Error;
  onTransition: (event: CircuitTransitionEvent) => void = () => undefined;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (message: ReplicaMessage) => {
      if (message.cmd === 'transition') return this.onTransition(message.event);
      if (message.cmd !== 'done') return;
      const waiter = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      if (message.error !== undefined) waiter?.reject(new Error(message.error));
      else waiter?.resolve();
    });
    // A replica that died answers nothing more: fail what waits instead of hanging the benchmark.
    child.on('exit', (code) => this.fail(new Error(`a fleet replica exited (code ${code})`)));
  }

  static async start(): Promise<Replica> {
    const child = fork(join(import.meta.dirname, 'fleet-replica-process.ts'), { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`a fleet replica exited (code ${code}) before it was ready`)));
    });
    return new Replica(child);
  }

  ask(command: WithoutId<ReplicaCommand>): Promise<void> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ ...command, id });
    });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ cmd: 'stop' });
    await exited;
  }

  private fail(error: Error): void {
    this.exited = error;
    for (const [id, waiter] of this.waiting) {
      this.waiting.delete(id);
      waiter.reject(error);
    }
  }
}

/** Deletes a finished run's fleet state, so that runs leave nothing behind in the shared Redis. */
async function forgetFleetState(keyPrefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    for await (const keys of redis.scanStream({ match: `${keyPrefix}*`, count: 500 })) {
      if ((keys as string[]).length) await redis.del(...(keys as string[]));
    }
  } finally {
    redis.disconnect();
  }
}

/** The first circuit opening of each replica (epoch ms), as their transitions come in. */
function watchOpenings(pool: Replica[]): Array<number | undefined> {
  const openings: Array<number | undefined> = pool.map(() => undefined);
  pool.forEach((replica, index) => {
    replica.onTransition = (event) => {
      if (event.to === 'open' && openings[index] === undefined) openings[index] = event.atMs;
    };
  });
  return openings;
}

export const fleetStrategyName = (shared: boolean, replicas: number) => `resilient-llm x${replicas}, ${shared ? 'shared state (Redis)' : 'state per replica'}`;

/**
 * This module on `replicas` processes, the arrivals spread over them round-robin. With `shared`,
 * their storm state (circuits, retry budget, pacing) is fleet-wide through Redis under a key prefix
 * of each instance's own; without, each replica keeps its own. The processes outlive one instance
 * (a warm-up and a measured run, round after round) until `dispose`.
 */
export function fleetStrategy(shared: boolean, replicas: number): Strategy {
  let pool: Promise<Replica[]> | undefined;
  let instances = 0;
  const create = async (context: StrategyContext): Promise<StrategyInstance> => {
    pool ??= Promise.all(Array.from({ length: replicas }, () => Replica.start()));
    const members = await pool;
    const keyPrefix = `resilient-llm-bench:${process.pid}:${Date.now()}:${++instances}:`;
    const fleet = shared ? { redis: REDIS_URL, keyPrefix } : undefined;
    const openings = watchOpenings(members);
    await Promise.all(members.map((replica) => replica.ask({ cmd: 'create', context, fleet })));
    let next = 0;
    return {
      send: () => members[next++ % members.length].ask({ cmd: 'send' }),
      close: async () => {
        await Promise.all(members.map((replica) => replica.ask({ cmd: 'close' })));
        if (shared) await forgetFleetState(keyPrefix);
      },
      circuitOpenings: () => [...openings],
    };
  };
  return {
    name: fleetStrategyName(shared, replicas),
    create,
    dispose: async () => {
      const members = await pool?.catch(() => []);
      pool = undefined;
      await Promise.all((members ?? []).map((replica) => replica.stop()));
    },
  };
}
