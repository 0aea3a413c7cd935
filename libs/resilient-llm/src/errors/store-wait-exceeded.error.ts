import { hasBrand } from './brand.js';

const brand = Symbol.for('resilient-llm.StoreWaitExceededError');

/**
 * The store did not answer within the wait a call allowed it (`storage.maxWaitMs`, or less when
 * the call's deadline was nearer). Whatever was asked of it may still happen later.
 */
export class StoreWaitExceededError extends Error {
  readonly [brand] = true;
  override readonly name = 'StoreWaitExceededError';

  constructor(readonly waitMs: number) {
    super(`resilient-llm: the store did not answer within ${waitMs} ms`);
  }
}

export const isStoreWaitExceededError = (error: unknown): error is StoreWaitExceededError => hasBrand(error, brand);
