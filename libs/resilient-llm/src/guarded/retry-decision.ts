import type { BackoffPolicy, RetryDecision, RetryState } from '../backoff/backoff.policy.js';
import type { ResolvedBackoffOptions } from '../backoff/backoff-options.interface.js';
import type { RetryAllowance } from '../storm/retry-budget.js';

export type GiveUp = Extract<RetryDecision, { retry: false }>;

/**
 * Retry or not after a failed attempt: the backoff policy's answer, then the retry budget's.
 * The same rule for a request's retries and for a handler's (`retry: 'handler'`).
 * `localStallMs`: the attempt timed out while this process's event loop was stalled that long.
 */
export function decideRetry(
  policy: BackoffPolicy,
  retryBudget: RetryAllowance | undefined,
  state: RetryState,
  error: unknown,
  backoff: ResolvedBackoffOptions,
  localStallMs?: number,
): { decision: RetryDecision; budgetDenied: boolean } {
  const decision = policy.decide(state, error, backoff);
  if (localStallMs !== undefined) decision.classification = { ...decision.classification, localStallMs };
  // A rate limit with Retry-After is the server pacing us: it neither draws on the retry budget
  // nor is refused by it. An outage that sends Retry-After is still an outage, and counts.
  // Neither does a timeout the app caused itself by starving its own event loop.
  const notTheUpstream = localStallMs !== undefined || (decision.retry && decision.source !== 'computed' && decision.classification.kind === 'rate_limited');
  if (decision.classification.retryable && !notTheUpstream) retryBudget?.onFailure();
  if (!decision.retry || notTheUpstream || !retryBudget || retryBudget.tryRetry()) return { decision, budgetDenied: false };
  // Too many failures across calls lately: this one stops here instead of adding load.
  const serverDelayMs = decision.source === 'computed' ? undefined : decision.delayMs;
  return { decision: { retry: false, reason: 'retry_budget_exhausted', classification: decision.classification, serverDelayMs }, budgetDenied: true };
}
