import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { BudgetGuard } from '../budget/budget.guard.js';
import { RESILIENT_LLM_BUDGET_STORE } from '../storage/budget-store.interface.js';
import { ResilientLlmStorage } from '../storage/resilient-llm-storage.js';
import { TypeOrmBudgetStore } from '../storage/typeorm-budget.store.js';
import type { ResolvedResilientLlmOptions } from './resilient-llm-options.interface.js';
import { BackoffPolicy } from '../backoff/backoff.policy.js';
import { ResilientLlmClient } from '../client/resilient-llm.client.js';
import { GuardedCallRunner } from '../guarded/guarded-call.runner.js';
import { GuardedInterceptor } from '../guarded/guarded.interceptor.js';
import { GuardedHandlersValidator } from '../guarded/guarded-handlers.validator.js';
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

const publicProviders = [BackoffPolicy, BudgetGuard, GuardedCallRunner, GuardedInterceptor, LlmPricing, ResilientLlmClient];

// The store is opened only when there is something to keep: no limits, no database.
const storageProviders = [
  {
    provide: ResilientLlmStorage,
    inject: [RESILIENT_LLM_OPTIONS],
    useFactory: (options: ResolvedResilientLlmOptions) => (options.budget.enabled ? ResilientLlmStorage.open(options.storage) : null),
  },
  {
    provide: RESILIENT_LLM_BUDGET_STORE,
    inject: [ResilientLlmStorage],
    useFactory: (storage: ResilientLlmStorage | null) => (storage ? new TypeOrmBudgetStore(storage.dataSource) : null),
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
    GuardedHandlersValidator,
    { provide: RESILIENT_LLM_OPTIONS, inject: [RAW_OPTIONS_TOKEN], useFactory: resolveModuleOptions },
    { provide: RESILIENT_LLM_CLOCK, useValue: systemClock },
    { provide: RESILIENT_LLM_SLEEPER, useValue: systemSleeper },
    { provide: RESILIENT_LLM_RANDOM, useValue: systemRandom },
    ...publicProviders,
  ],
  exports: [
    RESILIENT_LLM_OPTIONS,
    RESILIENT_LLM_CLOCK,
    RESILIENT_LLM_SLEEPER,
    RESILIENT_LLM_RANDOM,
    RESILIENT_LLM_BUDGET_STORE,
    ResilientLlmStorage,
    ...publicProviders,
  ],
})
export class ResilientLlmModule extends ConfigurableModuleClass {}
