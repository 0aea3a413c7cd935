// The public API: everything else is internal and may change in any release (index.spec.ts pins this list).
export { ResilientLlmModule } from './module/resilient-llm.module.js';
export type { ResilientLlmModuleAsyncOptions } from './module/resilient-llm.module-definition.js';
export type { LlmClientOptions, ResilientLlmModuleOptions } from './module/resilient-llm-options.interface.js';
export type { BackoffOptions } from './backoff/backoff-options.interface.js';
export type { BudgetOptions } from './budget/budget-options.interface.js';
export type { BudgetViewOptions } from './budget/budget-view-options.interface.js';
export type { IdempotencyOptions } from './idempotency/idempotency-options.interface.js';
export type { StorageOptions } from './storage/storage-options.interface.js';
export type { StormControlOptions } from './storm/storm-options.interface.js';
export type { ModelPrice, TokenUsage } from './pricing/model-price.interface.js';

export { Guarded } from './guarded/guarded.decorator.js';
export type { GuardedOptions } from './guarded/guarded-options.js';
export { currentGuardedCall, type GuardedCallView } from './guarded/guarded-call.context.js';
export { Idempotent, type IdempotentOptions } from './idempotency/idempotent.decorator.js';

export { ResilientLlmClient, type ChatRequest, type ChatStreamRequest, type LlmRequestOptions } from './client/resilient-llm.client.js';
export { BackoffPolicy } from './backoff/backoff.policy.js';
export { BudgetGuard } from './budget/budget.guard.js';
export type { BudgetStatus } from './budget/budget-status.interface.js';
export { createBudgetStatusController } from './budget/budget-status.controller.js';
export { StormControl } from './storm/storm-control.js';
export type { CircuitTransition, CircuitTransitionListener } from './storm/upstream-pass.js';
export { LlmPricing } from './pricing/llm-pricing.service.js';
export { microUsdToUsd } from './pricing/micro-price.js';

// A store of one's own: implement the interface, provide it under its token.
export { type BudgetStore, RESILIENT_LLM_BUDGET_STORE } from './budget/budget-store.interface.js';
export { type IdempotencyStore, RESILIENT_LLM_IDEMPOTENCY_STORE } from './idempotency/idempotency-store.interface.js';
// For `storage.dataSource`: the host app's DataSource must know the library's tables.
export { RESILIENT_LLM_ENTITIES, RESILIENT_LLM_MIGRATIONS } from './storage/resilient-llm.schema.js';

export { BudgetExhaustedException, isBudgetExhaustedException } from './budget/budget-exhausted.exception.js';
export { BudgetStoreUnavailableException, isBudgetStoreUnavailableException } from './budget/budget-store-unavailable.exception.js';
export { CircuitOpenException, isCircuitOpenException } from './storm/circuit-open.exception.js';
export { ConcurrencyLimitException, isConcurrencyLimitException } from './storm/concurrency-limit.exception.js';
export { IdempotencyRequestException, isIdempotencyRequestException } from './idempotency/idempotency-request.exception.js';
export { IdempotencyStoreUnavailableException, isIdempotencyStoreUnavailableException } from './idempotency/idempotency-store-unavailable.exception.js';
export { LlmCallFailedException, isLlmCallFailedException } from './guarded/llm-call-failed.exception.js';
export { RateLimitQueueException, isRateLimitQueueException } from './storm/pacing/rate-limit-queue.exception.js';
export { ResilientLlmConfigurationError, isResilientLlmConfigurationError } from './errors/resilient-llm-configuration.error.js';
export { ShuttingDownException, isShuttingDownException } from './errors/shutting-down.exception.js';
export { UnknownModelPriceError, isUnknownModelPriceError } from './pricing/unknown-model-price.error.js';
