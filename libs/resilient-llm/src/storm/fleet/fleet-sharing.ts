import { Logger } from '@nestjs/common';
import type { Clock } from '../../time/clock.interface.js';
import type { CircuitBreaker, CircuitState } from '../circuit-breaker.js';
import type { RetryBudgetSettings } from '../retry-budget.js';
import type { ResolvedFleetOptions } from './fleet-options.interface.js';
import type { RateBucketsSettings } from '../pacing/rate-buckets.js';
import { RedisFleetLink } from './redis-fleet.link.js';
import { RedisRateBuckets } from './redis-rate-buckets.js';
import type { SharedRetryBudget } from './shared-retry-budget.js';

/**
 * What this replica shares with the fleet through Redis: its circuits' changes (published as
 * they happen, adopted from the others as they arrive, read once when a circuit is first
 * used) and its retry budgets. Redis away: every replica goes on with its own state.
 */
export class FleetSharing {
  private readonly link: RedisFleetLink;
  private readonly breakers = new Map<string, CircuitBreaker>();

  constructor(
    options: ResolvedFleetOptions,
    private readonly clock: Clock,
    /** The breaker for a key, made if this replica has not used that model yet. */
    breakerFor: (key: string) => CircuitBreaker | undefined,
  ) {
    this.link = new RedisFleetLink(options, { logger: new Logger('ResilientLlmFleet') });
    this.link.onCircuit((key, snapshot) => {
      breakerFor(key)?.adopt(snapshot, this.clock.now());
    });
  }

  /** A circuit this replica starts using: it takes the fleet's current state, and its own changes go to the fleet. */
  follow(key: string, breaker: CircuitBreaker): void {
    this.breakers.set(key, breaker);
    this.link
      .readCircuit(key)
      .then((snapshot) => snapshot && breaker.adopt(snapshot, this.clock.now()))
      .catch(() => undefined);
  }

  /** A change this replica made (not one it adopted): the other replicas follow it within their subscription's latency. */
  published(key: string, to: CircuitState): void {
    const breaker = this.breakers.get(key);
    if (!breaker) return;
    this.link.publishCircuit(key, { state: to, openedAt: breaker.toJSON().openedAt }).catch(() => undefined);
  }

  retryBudget(key: string, settings: RetryBudgetSettings): SharedRetryBudget {
    return this.link.retryBudget(key, settings);
  }

  /** The rate-limit buckets of one upstream model, held in Redis for the fleet. */
  rateBuckets(key: string, settings: RateBucketsSettings): RedisRateBuckets {
    return new RedisRateBuckets(this.link, key, settings);
  }

  close(): Promise<void> {
    return this.link.close();
  }
}
