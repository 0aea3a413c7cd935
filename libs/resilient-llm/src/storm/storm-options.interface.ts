import type { CircuitBreakerSettings } from './circuit-breaker.js';
import type { FleetOptions, ResolvedFleetOptions } from './fleet/fleet-options.interface.js';
import type { OpenCircuitOptions, OpenCircuitSettings } from './open-circuit-options.js';
import type { PacingOptions, ResolvedPacingOptions } from './pacing/pacing-options.interface.js';
import type { RetryBudgetSettings } from './retry-budget.js';

/**
 * `whenOpen` (default `'wait'`): while a model's circuit is open a request waits for it, within
 * its deadline and `openCircuit.maxWaiting` (default 1000) waiting requests, then is released at
 * a ramp over `openCircuit.releaseRampMs` (default 1000 ms) once a probe succeeds; `'fail'`
 * refuses it at once with 503 and Retry-After.
 */
export interface StormControlOptions extends OpenCircuitOptions {
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
  /**
   * An attempt that times out while this process's own event loop stalled at least this long
   * (milliseconds; default 500) was starved by the app, not failed by the upstream: it is
   * retried, but neither opens a circuit nor draws on the retry budget.
   */
  localStallMs?: number;
  /**
   * Paces requests to each model to the provider's rate limits, as its `x-ratelimit-*` headers
   * and 429s report them (on by default; it acts only once a provider sends them): a request
   * waits for room within its deadline, or is refused at once with 503 when it cannot get it.
   * `windowMs`: the window the limits are per (default 60 000); `share`: the fraction of the
   * limit to use (default 0.95); `maxWaiting`: requests that may wait per model (default 1000).
   * `false` turns it off.
   */
  pacing?: false | PacingOptions;
  /**
   * Fleet-wide state (opt-in): the retry budgets, circuits and rate-limit pacing of every
   * replica shared through one Redis (ioredis, an optional peer dependency): a circuit one
   * replica opens is open on all within moments. Without it each process keeps its own.
   */
  fleet?: FleetOptions;
}

export interface ResolvedStormOptions {
  retryBudget?: RetryBudgetSettings & { perModel: boolean };
  circuitBreaker?: CircuitBreakerSettings;
  concurrency?: { limit?: number; perModel: Record<string, number>; maxQueue: number; queueTimeoutMs: number; strictFactor: number };
  fallbacks: Record<string, string[]>;
  localStallMs: number;
  openCircuit: OpenCircuitSettings;
  pacing?: ResolvedPacingOptions;
  fleet?: ResolvedFleetOptions;
}

/** Storm control's slice of the resolved module options (token `RESILIENT_LLM_STORM_SETTINGS`). */
export interface StormSettings {
  readonly stormControl: ResolvedStormOptions;
  /** Strict mode's cheaper model, preferred over the first fallback. */
  readonly budget: { readonly fallbackModel?: string };
  /** The upstream whose circuits and budgets these are. */
  readonly client: { readonly baseURL?: string };
}
