import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR, DiscoveryModule } from '@nestjs/core';
import { BudgetGuard } from '../budget/budget.guard.js';
import { RESILIENT_LLM_BUDGET_OBSERVER } from '../budget/budget-observer.interface.js';
import { RetryAfterInterceptor } from '../errors/retry-after.interceptor.js';
import { IdempotencyInterceptor } from '../idempotency/idempotency.interceptor.js';
import { IdempotencyPurger } from './idempotency-purger.js';
import { RESILIENT_LLM_BUDGET_STORE } from '../budget/budget-store.interface.js';
import { RESILIENT_LLM_IDEMPOTENCY_STORE } from '../idempotency/idempotency-store.interface.js';
import { ResilientLlmStorageHolder } from '../storage/storage-holder.js';
import { TypeOrmBudgetStore } from '../storage/typeorm-budget.store.js';
import { TypeOrmIdempotencyStore } from '../storage/typeorm-idempotency.store.js';
import { HandlerDiscovery } from './handler-discovery.js';
import { ResilientLlmTelemetry } from '../telemetry/resilient-llm.telemetry.js';
import { CircuitTransitionTelemetry } from '../telemetry/circuit-transition.listener.js';
import { EventLoopStallMonitor } from '../storm/event-loop-stall.js';
import { StormControl } from '../storm/storm-control.js';
import type { ResolvedResilientLlmOptions } from './resilient-llm-options.interface.js';
import { BackoffPolicy } from '../backoff/backoff.policy.js';
import { ResilientLlmClient } from '../client/resilient-llm.client.js';
import { GuardedCallRunner } from '../guarded/guarded-call.runner.js';
import { RESILIENT_LLM_CALL_EVENTS } from '../guarded/guarded-call-events.js';
import { RESILIENT_LLM_IDEMPOTENCY_EVENTS } from '../idempotency/idempotency-events.js';
import { GuardedInterceptor } from '../guarded/guarded.interceptor.js';
import { HandlerRetries } from '../guarded/handler-retries.js';
import { RequestExecutor } from '../transport/request-executor.js';
import { AnswerReader } from '../transport/answer-reader.js';
import { GuardedFetch } from '../transport/guarded-fetch.js';
import { LlmPricing } from '../pricing/llm-pricing.service.js';
import {
  RESILIENT_LLM_CLOCK,
  RESILIENT_LLM_OPTIONS,
  RESILIENT_LLM_RANDOM,
  RESILIENT_LLM_SLEEPER,
} from '../resilient-llm.constants.js';
import { systemClock, systemRandom, systemSleeper } from '../time/system-time.js';
import { ConfigurableModuleClass, RAW_OPTIONS_TOKEN } from './resilient-llm.module-definition.js';
import { resolveModuleOptions } from './resilient-llm-options.validation.js';
import { settingsProviders, settingsTokens } from './settings.providers.js';

const publicProviders = [
  BackoffPolicy,
  BudgetGuard,
  GuardedCallRunner,
  GuardedFetch,
  GuardedInterceptor,
  IdempotencyInterceptor,
  LlmPricing,
  ResilientLlmClient,
  ResilientLlmStorageHolder,
  ResilientLlmTelemetry,
  StormControl,
];

// The database is opened only when there is something to keep: budget limits, @Idempotent handlers.
const storageProviders = [
  {
    provide: RESILIENT_LLM_BUDGET_STORE,
    inject: [RESILIENT_LLM_OPTIONS, ResilientLlmStorageHolder],
    useFactory: async (options: ResolvedResilientLlmOptions, holder: ResilientLlmStorageHolder) =>
      options.budget.enabled ? new TypeOrmBudgetStore((await holder.open()).dataSource) : null,
  },
  {
    provide: RESILIENT_LLM_IDEMPOTENCY_STORE,
    inject: [ResilientLlmStorageHolder],
    useFactory: (holder: ResilientLlmStorageHolder) => new TypeOrmIdempotencyStore(holder),
  },
];

/**
 * `ResilientLlmModule.forRoot({...})` or `.forRootAsync({ imports, inject, useFactory })`;
 * `isGlobal: true` makes `@Guarded` and the client usable from every module.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    ...storageProviders,
    HandlerDiscovery,
    CircuitTransitionTelemetry,
    IdempotencyPurger,
    AnswerReader,
    HandlerRetries,
    RequestExecutor,
    { provide: EventLoopStallMonitor, useFactory: () => new EventLoopStallMonitor() },
    // App-wide, so that it runs before @Guarded: replays and refusals never reach the budget or the upstream.
    // Outermost, so registered first: Retry-After on every refusal of this library's, wherever thrown.
    { provide: APP_INTERCEPTOR, useClass: RetryAfterInterceptor },
    { provide: APP_INTERCEPTOR, useExisting: IdempotencyInterceptor },
    { provide: RESILIENT_LLM_OPTIONS, inject: [RAW_OPTIONS_TOKEN], useFactory: resolveModuleOptions },
    ...settingsProviders,
    // Telemetry listens to the concerns through their own seams: none of them imports telemetry/.
    { provide: RESILIENT_LLM_BUDGET_OBSERVER, useExisting: ResilientLlmTelemetry },
    { provide: RESILIENT_LLM_CALL_EVENTS, useExisting: ResilientLlmTelemetry },
    { provide: RESILIENT_LLM_IDEMPOTENCY_EVENTS, useExisting: ResilientLlmTelemetry },
    { provide: RESILIENT_LLM_CLOCK, useValue: systemClock },
    { provide: RESILIENT_LLM_SLEEPER, useValue: systemSleeper },
    { provide: RESILIENT_LLM_RANDOM, useValue: systemRandom },
    ...publicProviders,
  ],
  exports: [
    RESILIENT_LLM_OPTIONS,
    ...settingsTokens,
    RESILIENT_LLM_CLOCK,
    RESILIENT_LLM_SLEEPER,
    RESILIENT_LLM_RANDOM,
    RESILIENT_LLM_BUDGET_STORE,
    RESILIENT_LLM_IDEMPOTENCY_STORE,
    ...publicProviders,
  ],
})
export class ResilientLlmModule extends ConfigurableModuleClass {}
