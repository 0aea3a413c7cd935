import { AsyncLocalStorage } from 'node:async_hooks';
import { keepHandlerMetadata } from '../http/keep-handler-metadata.js';

/**
 * Whether the handler itself has started, as opposed to a guard or a validation pipe failing
 * before it: only outcomes of a handler that ran are stored (Stripe's rule).
 */
export const handlerProgress = new AsyncLocalStorage<{ started: boolean }>();

/** Wraps a handler so that it marks itself started; keeps the metadata other decorators put on it. */
export function markingHandlerStart<T extends (...args: never[]) => unknown>(handler: T): T {
  const wrapper = function (this: unknown, ...args: never[]) {
    const progress = handlerProgress.getStore();
    if (progress) progress.started = true;
    return handler.apply(this, args);
  } as unknown as T;
  return keepHandlerMetadata(handler, wrapper);
}
