import type { CircuitBreakerSettings } from './circuit-breaker.js';
import type { RetryBudgetSettings } from './retry-budget.js';

export interface StormControlOptions {
  /**
   * Caps retries across calls (on by default: gRPC A6 throttling, bucket 100, +0.1 per
   * success: retries stop once half the bucket is gone, i.e. after about 50 failures in a
   * burst; size `maxTokens` to twice the failures you want retried at once). `false` turns it off.
   */
  retryBudget?: false | (Partial<RetryBudgetSettings> & { /** One bucket per model instead of per upstream. Default false. */ perModel?: boolean });
  /** Fails fast while an upstream model keeps failing (on by default: 50% failures over 10 s with at least 20 calls, open 5 s, 1 probe); `false` turns it off. */
  circuitBreaker?: false | Partial<CircuitBreakerSettings>;
  /** Requests in flight per model (off by default). */
  concurrency?: {
    /** Default limit for every model; none when unset. */
    limit?: number;
    /** Limits for particular models. */
    perModel?: Record<string, number>;
    /** Requests that may wait for a slot. Default 100. */
    maxQueue?: number;
    /** How long one may wait, in milliseconds. Default 5 000. */
    queueTimeoutMs?: number;
    /** Share of the limit open to calls in strict mode (budget critical). Default 0.5. */
    strictFactor?: number;
  };
  /** Models to use, in order, when a model's circuit is open or a call runs in strict mode: `{ 'gpt-4.1': ['gpt-4.1-mini'] }`. */
  fallbacks?: Record<string, string[]>;
}

export interface ResolvedStormOptions {
  retryBudget?: RetryBudgetSettings & { perModel: boolean };
  circuitBreaker?: CircuitBreakerSettings;
  concurrency?: { limit?: number; perModel: Record<string, number>; maxQueue: number; queueTimeoutMs: number; strictFactor: number };
  fallbacks: Record<string, string[]>;
}
