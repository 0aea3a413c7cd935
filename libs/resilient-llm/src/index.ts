export { ResilientLlmModule } from './module/resilient-llm.module.js';
export type { ResilientLlmModuleAsyncOptions } from './module/resilient-llm.module-definition.js';
export type { LlmClientOptions, ResilientLlmModuleOptions, ResolvedResilientLlmOptions } from './module/resilient-llm-options.interface.js';
export * from './resilient-llm.constants.js';
export type { Clock, RandomSource, Sleeper } from './time/clock.interface.js';

export { BackoffPolicy, type DelaySource, type GiveUpReason, type RetryDecision, type RetryState } from './backoff/backoff.policy.js';
export { BACKOFF_STRATEGIES, type BackoffStrategy, computeDelay } from './backoff/backoff-strategy.js';
export { type BackoffOptions, DEFAULT_BACKOFF_OPTIONS } from './backoff/backoff-options.interface.js';
export { type FailureClassification, type FailureKind, classifyFailure } from './backoff/error-classifier.js';
export { parseServerRequestedDelay } from './backoff/retry-after.js';

export { Guarded } from './guarded/guarded.decorator.js';
export type { GuardedOptions } from './guarded/guarded-options.js';
export { GuardedInterceptor } from './guarded/guarded.interceptor.js';
export { GuardedCallRunner, type GuardedCallRequest } from './guarded/guarded-call.runner.js';
export { type AttemptRecord, GuardedCall, currentGuardedCall } from './guarded/guarded-call.context.js';

export { ResilientLlmClient, type ChatRequest, type ChatStreamRequest, type LlmRequestOptions } from './client/resilient-llm.client.js';
export { LlmPricing } from './pricing/llm-pricing.service.js';
export { DEFAULT_MODEL_PRICES, type ModelPrice, type TokenUsage } from './pricing/model-price.interface.js';
export { microUsdToUsd } from './pricing/price-table.js';

export { LlmCallFailedException, type LlmCallFailureBody, isLlmCallFailedException } from './errors/llm-call-failed.exception.js';
export { ResilientLlmConfigurationError, isResilientLlmConfigurationError } from './errors/resilient-llm-configuration.error.js';
export { UnknownModelPriceError, isUnknownModelPriceError } from './errors/unknown-model-price.error.js';
