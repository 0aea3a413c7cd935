import type { Span } from '@opentelemetry/api';

export type IdempotencyOutcome = 'hit' | 'miss' | 'conflict' | 'mismatch';

/**
 * What the idempotency interceptor tells of a keyed request: a span around the lookup (and, on
 * a miss, the handler, whose guarded call nests under it) and the outcome. Telemetry listens
 * (the module binds it to `RESILIENT_LLM_IDEMPOTENCY_EVENTS`).
 */
export interface IdempotencyEvents {
  startIdempotency(): Span;
  within<T>(span: Span, fn: () => T): T;
  idempotencyOutcome(span: Span, outcome: IdempotencyOutcome): void;
  endSpan(span: Span): void;
}

export const RESILIENT_LLM_IDEMPOTENCY_EVENTS = 'RESILIENT_LLM:IDEMPOTENCY_EVENTS';
