export { ResilientLlmModule } from './module/resilient-llm.module.js';
export type { ResilientLlmModuleAsyncOptions } from './module/resilient-llm.module-definition.js';
export type { LlmClientOptions, ResilientLlmModuleOptions, ResolvedResilientLlmOptions } from './module/resilient-llm-options.interface.js';
export * from './resilient-llm.constants.js';
export type { Clock, RandomSource, Sleeper } from './time/clock.interface.js';

export { BackoffPolicy, type DelaySource, type GiveUpReason, type RetryDecision, type RetryState } from './backoff/backoff.policy.js';
export { BACKOFF_STRATEGIES, type BackoffStrategy, type DelayInput, computeDelay } from './backoff/backoff-strategy.js';
export { type BackoffOptions, DEFAULT_BACKOFF_OPTIONS, type ResolvedBackoffOptions } from './backoff/backoff-options.interface.js';
export { type FailureClassification, type FailureKind, classifyFailure } from './backoff/error-classifier.js';
export { type ServerDelaySource, type ServerRequestedDelay, parseServerRequestedDelay } from './backoff/retry-after.js';

export { BudgetGuard, type CallSettlement } from './budget/budget.guard.js';
export type { BudgetLimits, BudgetOptions } from './budget/budget-options.interface.js';
export { BUDGET_STATES, type BudgetState } from './budget/budget-state.js';
export type { BudgetReservation, BudgetStatus, BudgetWindowStatus } from './budget/budget-status.interface.js';
export { createBudgetStatusController } from './budget/budget-status.controller.js';
export type { BudgetViewOptions } from './budget/budget-view-options.interface.js';
export { BUDGET_WINDOW_KINDS, type BudgetWindowKind } from './budget/budget-window.js';
export {
  type BudgetStore,
  type BudgetWindowRow,
  type BudgetWindowSnapshot,
  type NewReservation,
  RESILIENT_LLM_BUDGET_STORE,
  type Settlement,
} from './budget/budget-store.interface.js';
export { TypeOrmBudgetStore } from './storage/typeorm-budget.store.js';
export { ResilientLlmStorage } from './storage/resilient-llm-storage.js';
export { ResilientLlmStorageHolder } from './storage/storage-holder.js';
export {
  type ClaimResult,
  type IdempotencyClaim,
  type IdempotencyStore,
  RESILIENT_LLM_IDEMPOTENCY_STORE,
  type StoredResponse,
} from './idempotency/idempotency-store.interface.js';
export { TypeOrmIdempotencyStore } from './storage/typeorm-idempotency.store.js';
export { IdempotencyRecordEntity, type IdempotencyState } from './storage/entities/idempotency-record.entity.js';
export { Idempotent, type IdempotentOptions } from './idempotency/idempotent.decorator.js';
export { IdempotencyInterceptor } from './idempotency/idempotency.interceptor.js';
export type { IdempotencyOptions } from './idempotency/idempotency-options.interface.js';
export { MAX_IDEMPOTENT_BODY_DEPTH } from './idempotency/idempotency-key.js';
export { IdempotencyRequestException, type IdempotencyErrorCode } from './idempotency/idempotency-request.exception.js';
export { IdempotencyStoreUnavailableException, isIdempotencyStoreUnavailableException } from './idempotency/idempotency-store-unavailable.exception.js';
export { RESILIENT_LLM_ENTITIES, RESILIENT_LLM_MIGRATIONS } from './storage/resilient-llm.schema.js';
export type { StorageOptions } from './storage/storage-options.interface.js';
export { BudgetReservationEntity, type ReservationState } from './storage/entities/budget-reservation.entity.js';
export { BudgetWindowEntity } from './storage/entities/budget-window.entity.js';

export { Guarded } from './guarded/guarded.decorator.js';
export type { GuardedOptions } from './guarded/guarded-options.js';
export { GuardedInterceptor } from './guarded/guarded.interceptor.js';
export { GuardedCallRunner, type GuardedCallRequest } from './guarded/guarded-call.runner.js';
export {
  type AttemptRecord,
  type CompletionRecord,
  type GuardedCallView,
  type RetryMode,
  currentGuardedCall,
} from './guarded/guarded-call.context.js';
export { GuardedFetch } from './transport/guarded-fetch.js';
export type { EndpointAdapter } from './transport/adapters/index.js';

export { ResilientLlmClient, type ChatRequest, type ChatStreamRequest, type LlmRequestOptions } from './client/resilient-llm.client.js';
export { LlmPricing } from './pricing/llm-pricing.service.js';
export type { ModelPrice, TokenUsage } from './pricing/model-price.interface.js';
export { DEFAULT_MODEL_PRICES, PRICE_TABLE_SOURCE } from './pricing/bundled-prices.js';
export { type MicroPrice, type MicroRates, type PriceTable, microUsdToUsd } from './pricing/price-table.js';
export type { EncodingName, PromptTokenizer } from './tokenizer/prompt-tokenizer.js';

export {
  LlmCallFailedException,
  type LlmCallFailureBody,
  type LlmCallFailureCode,
  isLlmCallFailedException,
} from './guarded/llm-call-failed.exception.js';
export { BudgetExhaustedException, type BudgetExhaustedBody, isBudgetExhaustedException } from './budget/budget-exhausted.exception.js';
export { BudgetStoreUnavailableException, isBudgetStoreUnavailableException } from './budget/budget-store-unavailable.exception.js';
export type { RetryAfterHint } from './errors/retry-after.js';
export { ResilientLlmConfigurationError, isResilientLlmConfigurationError } from './errors/resilient-llm-configuration.error.js';
export { UnknownModelPriceError, isUnknownModelPriceError } from './pricing/unknown-model-price.error.js';

export { StormControl, type CircuitTransition, type CircuitTransitionListener } from './storm/storm-control.js';
export type { StormControlOptions } from './storm/storm-options.interface.js';
export type { FleetOptions } from './storm/fleet/fleet-options.interface.js';
export type { PacingOptions } from './storm/pacing/pacing-options.interface.js';
export { RateLimitQueueException } from './storm/pacing/rate-limit-queue.exception.js';
export type { CircuitBreakerSettings, CircuitState } from './storm/circuit-breaker.js';
export type { RetryBudgetSettings } from './storm/retry-budget.js';
export { CircuitOpenException } from './storm/circuit-open.exception.js';
export { ShuttingDownException, isShuttingDownException } from './errors/shutting-down.exception.js';
export { ConcurrencyLimitException } from './storm/concurrency-limit.exception.js';
export { ResilientLlmTelemetry } from './telemetry/resilient-llm.telemetry.js';
export { AttributeNames, EventNames, MetricNames, SpanNames } from './telemetry/telemetry.names.js';
