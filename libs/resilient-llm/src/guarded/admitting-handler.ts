import { keepHandlerMetadata } from '../http/keep-handler-metadata.js';
import { activeGuardedCall } from './guarded-call.context.js';

/**
 * Wraps a `@Guarded` handler so that its call is admitted (its budget windows read, or refused
 * with 429) after guards and pipes and before its body: a request a pipe refuses never touches
 * the ledger, and a refused call does none of its own work. Keeps the metadata other decorators
 * put on the handler.
 */
export function admittingHandler<T extends (...args: never[]) => unknown>(handler: T): T {
  const wrapper = function (this: unknown, ...args: never[]) {
    const call = activeGuardedCall();
    if (!call || call.isAdmitted) return handler.apply(this, args);
    return call.admit().then(() => handler.apply(this, args));
  } as unknown as T;
  return keepHandlerMetadata(handler, wrapper);
}
