import { Module } from '@nestjs/common';
import { BackoffPolicy } from '../backoff/backoff.policy.js';
import { ResilientLlmClient } from '../client/resilient-llm.client.js';
import { GuardedCallRunner } from '../guarded/guarded-call.runner.js';
import { GuardedInterceptor } from '../guarded/guarded.interceptor.js';
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

const publicProviders = [BackoffPolicy, GuardedCallRunner, GuardedInterceptor, LlmPricing, ResilientLlmClient];

/**
 * `ResilientLlmModule.forRoot({...})` or `.forRootAsync({ imports, inject, useFactory })`;
 * `isGlobal: true` makes `@Guarded` and the client usable from every module.
 */
@Module({
  providers: [
    { provide: RESILIENT_LLM_OPTIONS, inject: [RAW_OPTIONS_TOKEN], useFactory: resolveModuleOptions },
    { provide: RESILIENT_LLM_CLOCK, useValue: systemClock },
    { provide: RESILIENT_LLM_SLEEPER, useValue: systemSleeper },
    { provide: RESILIENT_LLM_RANDOM, useValue: systemRandom },
    ...publicProviders,
  ],
  exports: [RESILIENT_LLM_OPTIONS, RESILIENT_LLM_CLOCK, RESILIENT_LLM_SLEEPER, RESILIENT_LLM_RANDOM, ...publicProviders],
})
export class ResilientLlmModule extends ConfigurableModuleClass {}
