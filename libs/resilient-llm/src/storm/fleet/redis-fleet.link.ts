import { randomUUID } from 'node:crypto';
import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { RetryBudgetSettings } from '../retry-budget.js';
import { FleetCircuitChannel, type FleetCircuitListener, type FleetCircuitSnapshot, decodeCircuit, encodeCircuit } from './fleet-circuit.channel.js';
import { FleetConnection } from './fleet.connection.js';
import { RATE_BLOCK, RATE_SYNC, RATE_TAKE, RETRY_BUDGET_PUSH } from './fleet.scripts.js';
import { type FleetLogger, FleetOutageLog } from './fleet-outage.log.js';
import type { ResolvedFleetOptions } from './fleet-options.interface.js';
import { type Timers, systemTimers } from '../../time/timers.js';
import { SharedRetryBudget } from './shared-retry-budget.js';

/** How long a published circuit state stays readable for replicas that start later, in milliseconds. */
const CIRCUIT_TTL_MS = 10 * 60_000;
/** A retry budget nobody touched for this long expires, which is a full bucket again. */
const BUDGET_IDLE_TTL_MS = 10 * 60_000;

export interface RateNeed {
  requests: number;
  tokens: number;
}

/** Per-millisecond rates and burst sizes; a bucket without its rate is not limited. Capacity defaults to a minute of the rate. */
export interface RateLimits {
  requestsPerMs?: number;
  requestCapacity?: number;
  tokensPerMs?: number;
  tokenCapacity?: number;
}

export interface FleetLinkDependencies {
  logger?: FleetLogger;
  timers?: Timers;
  /** Tells this replica's messages from the others'; random by default. */
  instanceId?: string;
}

/**
 * This process's link to the fleet's storm state in Redis. Every method settles within
 * `commandTimeoutMs`, connected or not; a rejection (a `FleetUnavailableError`) means "use
 * your local state". Redis faults are logged once, and the link recovers on its own when
 * Redis is back.
 */
export class RedisFleetLink implements OnApplicationShutdown {
  readonly instanceId: string;
  private readonly connection: FleetConnection;
  private readonly circuits: FleetCircuitChannel;
  private readonly budgets = new Map<string, SharedRetryBudget>();
  private readonly timers: Timers;

  constructor(
    private readonly options: ResolvedFleetOptions,
    dependencies: FleetLinkDependencies = {},
  ) {
    this.instanceId = dependencies.instanceId ?? randomUUID();
    this.timers = dependencies.timers ?? systemTimers();
    const outage = new FleetOutageLog(dependencies.logger ?? new Logger('RedisFleetLink'));
    this.connection = new FleetConnection(options.redis, options.commandTimeoutMs, this.timers, outage);
    this.circuits = new FleetCircuitChannel(this.connection, this.key('circuits'), (key) => this.key('circuit', key), this.instanceId, outage, this.timers);
  }

  /** Stores a circuit's state for replicas that start later and tells the running ones. */
  async publishCircuit(key: string, snapshot: FleetCircuitSnapshot): Promise<void> {
    this.circuits.remember(key);
    const record = encodeCircuit(key, snapshot, this.instanceId);
    await this.connection.run('publish circuit', async (client) => {
      const replies = await client.multi().set(this.key('circuit', key), record, 'PX', CIRCUIT_TTL_MS).publish(this.key('circuits'), record).exec();
      const failed = replies?.find(([error]) => error);
      if (!replies || failed) throw failed?.[0] ?? new Error('the transaction was discarded');
    });
  }

  /** Hears circuit states other replicas publish (never this one's); returns the unsubscribe. */
  onCircuit(listener: FleetCircuitListener): () => void {
    return this.circuits.listen(listener);
  }

  /** The last state any replica (this one included) published for a circuit, or null. */
  async readCircuit(key: string): Promise<FleetCircuitSnapshot | null> {
    this.circuits.remember(key);
    const record = decodeCircuit(await this.connection.run('read circuit', (client) => client.get(this.key('circuit', key))));
    return record ? { state: record.state, openedAt: record.openedAt } : null;
  }

  /** True for exactly one caller fleet-wide until `ttlMs` passes: that replica sends the half-open probe. */
  async claimProbe(key: string, ttlMs: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const reply = await this.connection.run('claim probe', (client) => client.set(this.key('probe', key), this.instanceId, 'PX', ttl, 'NX'));
    return reply === 'OK';
  }

  /** The fleet's retry budget under `key` (one object per key and process); its timer stops on `close`. */
  retryBudget(key: string, settings: RetryBudgetSettings): SharedRetryBudget {
    let budget = this.budgets.get(key);
    if (!budget) {
      budget = new SharedRetryBudget(settings, (delta) => this.pushRetryBudget(key, settings.maxTokens, delta), this.timers, this.options.syncMs);
      this.budgets.set(key, budget);
    }
    return budget;
  }

  /** Adds `delta` to the fleet's bucket, clamped to [0, maxTokens]; resolves with the fleet's level. */
  async pushRetryBudget(key: string, maxTokens: number, delta: number): Promise<number> {
    const reply = await this.connection.evaluate('retry budget', RETRY_BUDGET_PUSH, [this.key('budget', key)], [maxTokens, delta, BUDGET_IDLE_TTL_MS]);
    const level = Number(reply);
    if (!Number.isFinite(level)) throw new Error(`retry budget: Redis answered ${String(reply)}`);
    return level;
  }

  /** Takes `need` from the fleet's rate buckets: 0 when taken, else the ms until it could be (nothing taken). */
  async takeRate(key: string, need: RateNeed, limits: RateLimits): Promise<number> {
    const requests = bucketArgs(limits.requestsPerMs, limits.requestCapacity);
    const tokens = bucketArgs(limits.tokensPerMs, limits.tokenCapacity);
    const args = [nonNegative(need.requests), nonNegative(need.tokens), requests.rate, requests.capacity, tokens.rate, tokens.capacity];
    return Number(await this.connection.evaluate('take rate', RATE_TAKE, [this.key('rate', key)], args));
  }

  /** Lowers the fleet's buckets to what the provider's headers say is left; never raises them. */
  async syncRate(key: string, remaining: { requests?: number; tokens?: number }): Promise<void> {
    const args = [optional(remaining.requests), optional(remaining.tokens)];
    await this.connection.evaluate('sync rate', RATE_SYNC, [this.key('rate', key)], args);
  }

  /** Holds every replica's takes on `key` back until then (epoch ms, compared with Redis's clock). */
  async blockRate(key: string, untilEpochMs: number): Promise<void> {
    if (!Number.isFinite(untilEpochMs)) throw new RangeError(`blockRate: untilEpochMs must be finite, got ${untilEpochMs}`);
    await this.connection.evaluate('block rate', RATE_BLOCK, [this.key('rate', key)], [Math.ceil(untilEpochMs)]);
  }

  /** Pushes what the retry budgets hold, closes the subscriber and the clients this link made. */
  async close(): Promise<void> {
    const budgets = [...this.budgets.values()];
    this.budgets.clear();
    await Promise.all(budgets.map((budget) => budget.stop()));
    await this.circuits.close();
    await this.connection.close();
  }

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  private key(kind: string, name?: string): string {
    return name === undefined ? `${this.options.keyPrefix}${kind}` : `${this.options.keyPrefix}${kind}:${name}`;
  }
}

function bucketArgs(ratePerMs: number | undefined, capacity: number | undefined): { rate: string | number; capacity: string | number } {
  if (ratePerMs === undefined) return { rate: '', capacity: '' };
  if (!Number.isFinite(ratePerMs) || ratePerMs <= 0) throw new RangeError(`takeRate: a rate must be a number > 0 per ms, got ${ratePerMs}`);
  const size = capacity ?? ratePerMs * 60_000;
  if (!Number.isFinite(size) || size <= 0) throw new RangeError(`takeRate: a capacity must be a number > 0, got ${size}`);
  return { rate: ratePerMs, capacity: size };
}

function nonNegative(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}

function optional(value: number | undefined): string | number {
  return value !== undefined && Number.isFinite(value) ? Math.max(0, value) : '';
}
