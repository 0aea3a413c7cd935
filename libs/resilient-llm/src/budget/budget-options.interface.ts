import type { BackoffOptions, ResolvedBackoffOptions } from '../backoff/backoff-options.interface.js';

/** Spend limits in US dollars per calendar window; a window left out is not limited. */
export interface BudgetLimits {
  dailyUsd?: number;
  monthlyUsd?: number;
}

export interface BudgetOptions {
  /** Limits of the global scope, shared by every call. */
  limits?: BudgetLimits;
  /** Limits of each scope key (tenant, user, ...) that `scopeOverrides` does not list. */
  scopeLimits?: BudgetLimits;
  /** Limits for particular scope keys, e.g. `{ 'tenant-big': { dailyUsd: 500 } }`. */
  scopeOverrides?: Record<string, BudgetLimits>;
  /** IANA time zone in which daily and monthly windows start at midnight. Default `'UTC'`. */
  timeZone?: string;
  /** Spent-or-reserved fraction of a limit at which a window turns `warning` / `critical`. Defaults 0.5 / 0.8. */
  thresholds?: { warning?: number; critical?: number };
  /**
   * How long a reservation holds money if its process dies before settling it, in milliseconds.
   * A live call renews its lease every quarter of it; when a lease ends, what the call had in
   * flight (requests sent) is charged as waste and the rest returns. Default 600 000; at least
   * `backoff.deadlineMs + client.attemptTimeoutMs`.
   */
  leaseMs?: number;
  /** `'fail-closed'` (default): no store, no call (503). `'fail-open'`: call anyway and record the spend when the store is back. */
  onStoreError?: 'fail-closed' | 'fail-open';
  /**
   * Charge an attempt that timed out (the provider may have billed it) at its worst case, as waste.
   * Default true. Attempts aborted or cut off after they were sent are always charged so.
   */
  chargeTimedOutAttempts?: boolean;
  /**
   * Strict mode for calls admitted while a window is `critical`: backoff settings over the
   * module's (default: at most 2 attempts, doubled base delay) and an optional cheaper model.
   */
  strict?: { backoff?: BackoffOptions; fallbackModel?: string };
  /**
   * Escrow: each replica holds a slice of the budget (one ledger row per window set) and serves
   * its calls' reservations from it in memory. `false` (default), `true`, or tuning:
   * `maxSliceUsd` (default 1, the most one slice holds, in USD) and `settleEveryMs` (default
   * 1000, how often slices are settled so that the budget view stays near-current).
   */
  escrow?: boolean | { maxSliceUsd?: number; settleEveryMs?: number };
}

/** Escrow after validation; money in integer micro-dollars. */
export interface ResolvedEscrowOptions {
  maxSliceMicro: number;
  settleEveryMs: number;
}

export interface ResolvedBudgetLimits {
  daily?: number;
  monthly?: number;
}

/** Budget options after validation; limits in integer micro-dollars. */
export interface ResolvedBudgetOptions {
  enabled: boolean;
  global: ResolvedBudgetLimits;
  scopeDefault: ResolvedBudgetLimits;
  scopeOverrides: ReadonlyMap<string, ResolvedBudgetLimits>;
  timeZone: string;
  warningRatio: number;
  criticalRatio: number;
  leaseMs: number;
  failOpen: boolean;
  chargeTimedOutAttempts: boolean;
  strictBackoff: ResolvedBackoffOptions;
  fallbackModel?: string;
  /** Undefined when escrow is off. */
  escrow?: ResolvedEscrowOptions;
}

/** The budget guard's slice of the resolved module options (token `RESILIENT_LLM_BUDGET_SETTINGS`). */
export interface BudgetSettings {
  readonly budget: ResolvedBudgetOptions;
  /** How long a call waits for the store, in milliseconds (`storage.maxWaitMs`). */
  readonly storage: { readonly maxWaitMs: number };
}
