import { SetMetadata, UseInterceptors } from '@nestjs/common';
import { GUARDED_METADATA } from '../resilient-llm.constants.js';
import { GuardedInterceptor } from './guarded.interceptor.js';
import { type GuardedOptions, normalizeGuardedOptions } from './guarded-options.js';

/**
 * Marks a handler (or every handler of a controller) as an LLM call: its retryable upstream
 * failures are retried through `BackoffPolicy`, and `ResilientLlmClient` calls inside it make
 * one attempt each. `@Guarded(2000)` or `@Guarded({ estimatedTokens: 2000, model: 'gpt-4.1' })`.
 */
export function Guarded(estimate: number | GuardedOptions): ClassDecorator & MethodDecorator {
  return (target: object, propertyKey?: string | symbol, descriptor?: PropertyDescriptor) => {
    const owner = propertyKey === undefined ? (target as { name: string }).name : `${target.constructor.name}.${String(propertyKey)}`;
    const options = normalizeGuardedOptions(estimate, `@Guarded() on ${owner}`);
    if (propertyKey === undefined) {
      SetMetadata(GUARDED_METADATA, options)(target as never);
      UseInterceptors(GuardedInterceptor)(target as never);
      return;
    }
    SetMetadata(GUARDED_METADATA, options)(target, propertyKey, descriptor as PropertyDescriptor);
    UseInterceptors(GuardedInterceptor)(target, propertyKey, descriptor as PropertyDescriptor);
  };
}
