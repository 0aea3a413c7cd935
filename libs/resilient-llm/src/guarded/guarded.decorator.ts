import { SetMetadata, UseInterceptors } from '@nestjs/common';
import { GUARDED_METADATA } from '../resilient-llm.constants.js';
import { admittingHandler } from './admitting-handler.js';
import { GuardedInterceptor } from './guarded.interceptor.js';
import { type GuardedOptions, normalizeGuardedOptions } from './guarded-options.js';

// Where @nestjs/common's route decorators keep a handler's path.
const PATH_METADATA = 'path';

/**
 * Marks a handler (or every handler of a controller) as an LLM call. The handler runs once, as
 * a guarded call (deadline, abort signal, span, budget); every upstream request it makes through
 * `ResilientLlmClient` or `llm.fetch` is retried on its own through `BackoffPolicy`. Its
 * estimate is reserved after guards and pipes, before its body runs.
 * `@Guarded(2000)` or `@Guarded({ estimatedTokens: 2000, model: 'gpt-4.1' })`.
 */
export function Guarded(estimate: number | GuardedOptions): ClassDecorator & MethodDecorator {
  return (target: object, propertyKey?: string | symbol, descriptor?: PropertyDescriptor) => {
    const owner = propertyKey === undefined ? (target as { name: string }).name : `${target.constructor.name}.${String(propertyKey)}`;
    const options = normalizeGuardedOptions(estimate, `@Guarded() on ${owner}`);
    if (propertyKey === undefined) {
      SetMetadata(GUARDED_METADATA, options)(target as never);
      UseInterceptors(GuardedInterceptor)(target as never);
      const prototype = (target as { prototype: Record<string, unknown> }).prototype;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const method = prototype[name];
        if (typeof method === 'function' && Reflect.hasMetadata(PATH_METADATA, method)) prototype[name] = admittingHandler(method as () => unknown);
      }
      return;
    }
    if (descriptor && typeof descriptor.value === 'function') descriptor.value = admittingHandler(descriptor.value);
    SetMetadata(GUARDED_METADATA, options)(target, propertyKey, descriptor as PropertyDescriptor);
    UseInterceptors(GuardedInterceptor)(target, propertyKey, descriptor as PropertyDescriptor);
  };
}
