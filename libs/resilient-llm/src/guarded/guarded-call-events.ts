import type { Span } from '@opentelemetry/api';
import type { DelaySource } from '../backoff/backoff.policy.js';
import type { FailureClassification } from '../backoff/error-classifier.js';
import type { BudgetExhaustedException } from '../budget/budget-exhausted.exception.js';
import type { BudgetWindowStatus } from '../budget/budget-status.interface.js';

/** What the upstream answered to one attempt. */
export interface CompletionEvent {
  /** `gen_ai.operation.name`; `chat` when omitted. */
  operation?: string;
  requestModel: string;
  responseModel?: string;
  responseId?: string;
  inputTokens: number;
  outputTokens: number;
  /** Only with `telemetry.captureContent`. */
  input?: unknown;
  output?: unknown;
}

export interface AttemptFailureEvent {
  classification: FailureClassification;
  retrying: boolean;
}

export interface BackoffEvent {
  startedAt: number;
  delayMs: number;
  source: DelaySource;
  strategy: string;
}

export interface CallEndEvent {
  outcome: string;
  attempts: number;
  costMicro: number;
  wasteMicro: number;
  model: string;
  giveUpReason?: string;
  error?: unknown;
}

/**
 * What a guarded call tells as it runs: its start and end, each attempt, each backoff sleep,
 * each budget step. Telemetry listens (the module binds it to `RESILIENT_LLM_CALL_EVENTS`); the
 * call only carries the span it is handed back, so that the attempts it makes nest under it.
 */
export interface GuardedCallEvents {
  /** Runs `fn` with `span` as the active span, so that spans made inside become its children. */
  within<T>(span: Span, fn: () => T): T;
  startCall(attributes: { model: string; estimatedTokens?: number; scopeKey?: string }): Span;
  startAttempt(callSpan: Span, attempt: number, model: string, operation?: string): Span;
  /** How long the attempt waited before it was sent: for an open circuit, for room under the provider's rate limit. */
  heldBeforeAttempt(span: Span, waits: { heldMs: number; pacedMs: number }): void;
  completion(attemptSpan: Span | undefined, completion: CompletionEvent): void;
  endAttempt(span: Span, model: string, failure?: AttemptFailureEvent): void;
  /** Told once the sleep is over, so that its span lasts exactly as long. */
  backoff(callSpan: Span, sleep: BackoffEvent): void;
  retryBudgetDenied(callSpan: Span, model: string, tokens: number): void;
  /** The call (or request) runs on a fallback model. */
  fallback(span: Span | undefined, from: string, to: string): void;
  budgetReserved(callSpan: Span, window: BudgetWindowStatus | undefined, amountMicro: number): void;
  budgetSettled(callSpan: Span, window: BudgetWindowStatus | undefined, costMicro: number, wasteMicro: number): void;
  budgetRejected(callSpan: Span, rejection: BudgetExhaustedException): void;
  strict(callSpan: Span): void;
  endCall(span: Span, result: CallEndEvent): void;
}

export const RESILIENT_LLM_CALL_EVENTS = 'RESILIENT_LLM:CALL_EVENTS';
