import { SetMetadata } from '@nestjs/common';
import { checkNumber, optionalBoolean } from '../errors/option-checks.js';
import { ResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';
import { IDEMPOTENT_METADATA } from '../resilient-llm.constants.js';
import { markingHandlerStart } from './handler-started.js';

export interface IdempotentOptions {
  /** Refuse requests without a key (400). Default false: a key, when given, is honoured. */
  required?: boolean;
  /** How long this handler's responses are replayed, in milliseconds; the module's `idempotency.ttlMs` by default. */
  ttlMs?: number;
}

/**
 * Makes a handler (or every handler of a controller) idempotent under the `Idempotency-Key`
 * header: the first request with a key runs and its response is stored; a repeat replays it
 * (`Idempotent-Replayed: true`); the same key with another payload is a 422; a repeat while the
 * first still runs is a 409.
 */
export function Idempotent(options: IdempotentOptions = {}): ClassDecorator & MethodDecorator {
  return (target: object, propertyKey?: string | symbol, descriptor?: PropertyDescriptor) => {
    const owner = propertyKey === undefined ? (target as { name: string }).name : `${target.constructor.name}.${String(propertyKey)}`;
    const source = `@Idempotent() on ${owner}`;
    if (typeof options !== 'object' || options === null) throw new ResilientLlmConfigurationError(source, 'takes { required?, ttlMs? }');
    optionalBoolean(`${source}: required`, options.required, false);
    if (options.ttlMs !== undefined) checkNumber(`${source}: ttlMs`, options.ttlMs, { unit: 'milliseconds', min: 1 });
    const metadata = Object.freeze({ ...options });
    if (propertyKey === undefined) {
      SetMetadata(IDEMPOTENT_METADATA, metadata)(target as never);
      const prototype = (target as { prototype: Record<string, unknown> }).prototype;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const method = prototype[name];
        if (name !== 'constructor' && typeof method === 'function') prototype[name] = markingHandlerStart(method as () => unknown);
      }
      return;
    }
    if (descriptor && typeof descriptor.value === 'function') descriptor.value = markingHandlerStart(descriptor.value);
    SetMetadata(IDEMPOTENT_METADATA, metadata)(target, propertyKey, descriptor as PropertyDescriptor);
  };
}
