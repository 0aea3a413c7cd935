import { SetMetadata, UseInterceptors } from '@nestjs/common';
import { GUARDED_METADATA } from '../resilient-llm.constants.js';
import { admittingHandler } from './admitting-handler.js';
import { GuardedInterceptor } from './guarded.interceptor.js';
import { type GuardedOptions, normalizeGuardedOptions } from './guarded-options.js';
import { PATH_METADATA, SSE_METADATA } from '../http/nest-route-metadata.js';


/**
 * Every route handler a controller class has, its base classes' included (Nest routes inherited
 * handlers too), wrapped on the class itself so that other subclasses of a base stay untouched.
 * Read through descriptors: a getter is not called. An @Sse() handler emits many values and is
 * left alone (HandlerDiscovery refuses @Guarded on it at boot).
 */
function admitBeforeEveryHandler(controller: { prototype: object }): void {
  const own = controller.prototype;
  const seen = new Set<string>();
  for (let proto: object | null = own; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name === 'constructor' || seen.has(name)) continue;
      seen.add(name);
      const descriptor = Object.getOwnPropertyDescriptor(proto, name)!;
      const handler = descriptor.value;
      if (typeof handler !== 'function' || !Reflect.hasMetadata(PATH_METADATA, handler) || Reflect.hasMetadata(SSE_METADATA, handler)) continue;
      Object.defineProperty(own, name, { ...descriptor, value: admittingHandler(handler) });
    }
  }
}

/**
 * Marks a handler (or every handler of a controller) as an LLM call. The handler runs once, as
 * a guarded call (deadline, abort signal, span, budget); every upstream request it makes through
 * `ResilientLlmClient` or `llm.fetch` is retried on its own through `BackoffPolicy`. After
 * guards and pipes, before its body runs, its budget windows are checked against its estimate;
 * each request's exact worst case is reserved before the request is sent.
 * `@Guarded(2000)` or `@Guarded({ estimatedTokens: 2000, model: 'gpt-4.1' })`.
 */
export function Guarded(estimate: number | GuardedOptions): ClassDecorator & MethodDecorator {
  return (target: object, propertyKey?: string | symbol, descriptor?: PropertyDescriptor) => {
    const owner = propertyKey === undefined ? (target as { name: string }).name : `${target.constructor.name}.${String(propertyKey)}`;
    const options = normalizeGuardedOptions(estimate, `@Guarded() on ${owner}`);
    if (propertyKey === undefined) {
      SetMetadata(GUARDED_METADATA, options)(target as never);
      UseInterceptors(GuardedInterceptor)(target as never);
      admitBeforeEveryHandler(target as { prototype: object });
      return;
    }
    if (descriptor && typeof descriptor.value === 'function') descriptor.value = admittingHandler(descriptor.value);
    SetMetadata(GUARDED_METADATA, options)(target, propertyKey, descriptor as PropertyDescriptor);
    UseInterceptors(GuardedInterceptor)(target, propertyKey, descriptor as PropertyDescriptor);
  };
}
