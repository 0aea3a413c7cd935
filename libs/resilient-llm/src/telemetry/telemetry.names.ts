/** The library's name and version, as its tracer and meter are named. */
export const INSTRUMENTATION_NAME = '@resilient-llm/nestjs';
export const INSTRUMENTATION_VERSION = '0.1.0';

export enum SpanNames {
  CALL = 'resilient_llm.call',
  ATTEMPT = 'resilient_llm.attempt',
  BACKOFF = 'resilient_llm.backoff',
  IDEMPOTENCY = 'resilient_llm.idempotency',
}

export enum AttributeNames {
  COMPONENT = 'resilient_llm.component',
  OUTCOME = 'resilient_llm.outcome',
  ATTEMPTS = 'resilient_llm.attempts',
  ATTEMPT = 'resilient_llm.attempt',
  GIVE_UP_REASON = 'resilient_llm.give_up_reason',
  FAILURE_KIND = 'resilient_llm.failure_kind',
  RETRYABLE = 'resilient_llm.retryable',
  LOCAL_STALL_MS = 'resilient_llm.local_stall_ms',
  CIRCUIT_HELD_MS = 'resilient_llm.circuit.held_ms',
  PACING_WAITED_MS = 'resilient_llm.pacing.waited_ms',
  ESTIMATED_TOKENS = 'resilient_llm.estimated_tokens',
  COST_MICRO_USD = 'resilient_llm.cost.micro_usd',
  WASTE_MICRO_USD = 'resilient_llm.waste.micro_usd',
  SCOPE = 'resilient_llm.scope',
  STRICT = 'resilient_llm.strict',
  BACKOFF_DELAY_MS = 'resilient_llm.backoff.delay_ms',
  BACKOFF_STRATEGY = 'resilient_llm.backoff.strategy',
  BACKOFF_SOURCE = 'resilient_llm.backoff.source',
  BUDGET_STATUS = 'resilient_llm.budget.status',
  BUDGET_SPENT = 'resilient_llm.budget.spent_micro_usd',
  BUDGET_RESERVED = 'resilient_llm.budget.reserved_micro_usd',
  BUDGET_LIMIT = 'resilient_llm.budget.limit_micro_usd',
  BUDGET_RATIO = 'resilient_llm.budget.ratio',
  BUDGET_WINDOW = 'resilient_llm.budget.window',
  BUDGET_REQUESTED = 'resilient_llm.budget.requested_micro_usd',
  IDEMPOTENCY_OUTCOME = 'resilient_llm.idempotency.outcome',
  CIRCUIT_FROM = 'resilient_llm.circuit.from',
  CIRCUIT_STATE = 'resilient_llm.circuit.state',
  RETRY_BUDGET_TOKENS = 'resilient_llm.retry_budget.tokens',
  FALLBACK_FROM = 'resilient_llm.fallback_from',
}

export enum EventNames {
  BUDGET_RESERVED = 'resilient_llm.budget.reserved',
  BUDGET_SETTLED = 'resilient_llm.budget.settled',
  BUDGET_REJECTED = 'resilient_llm.budget.rejected',
  IDEMPOTENCY = 'resilient_llm.idempotency',
  CIRCUIT_TRANSITION = 'resilient_llm.circuit.transition',
  RETRY_BUDGET_DENIED = 'resilient_llm.retry_budget.denied',
}

export enum MetricNames {
  CALLS = 'resilient_llm.calls',
  ATTEMPTS = 'resilient_llm.attempts',
  RETRIES = 'resilient_llm.retries',
  BUDGET_REJECTIONS = 'resilient_llm.budget.rejections',
  COST = 'resilient_llm.cost',
  BACKOFF_DELAY = 'resilient_llm.backoff.delay',
  BUDGET_RATIO = 'resilient_llm.budget.ratio',
  CIRCUIT_TRANSITIONS = 'resilient_llm.circuit.transitions',
  RETRY_BUDGET_DENIALS = 'resilient_llm.retry_budget.denials',
}

/** On every span the library makes. */
export const COMMON_ATTRIBUTES = Object.freeze({ [AttributeNames.COMPONENT]: 'resilient-llm' });
