import { hasBrand } from '../../errors/brand.js';

const brand = Symbol.for('resilient-llm.RateLimitWaitExceededError');

/** `deadline`: capacity comes later than the request may wait. `queue_full`: too many requests wait already. */
export type RateLimitRefusal = 'deadline' | 'queue_full';

/**
 * A request the pacer refused without sending it: the provider's rate limit would have no room
 * for it within its wait, or its queue is full. Refused as soon as that is known, not after
 * waiting. `retryAfterMs` is when room is expected, given the requests ahead.
 */
export class RateLimitWaitExceededError extends Error {
  readonly [brand] = true;
  override readonly name = 'RateLimitWaitExceededError';

  constructor(
    /** The pacer's key (`${upstream}|${model}`). */
    readonly key: string,
    readonly reason: RateLimitRefusal,
    readonly retryAfterMs: number,
    /** The bound that was hit: the request's maximum wait in ms, or the number of requests allowed to wait. */
    readonly bound: number,
  ) {
    super(
      reason === 'deadline'
        ? `resilient-llm: the rate limit of "${key}" has no room within ${bound} ms; room expected in ${retryAfterMs} ms`
        : `resilient-llm: ${bound} requests wait for the rate limit of "${key}" already; room expected in ${retryAfterMs} ms`,
    );
  }
}

export const isRateLimitWaitExceededError = (error: unknown): error is RateLimitWaitExceededError => hasBrand(error, brand);
