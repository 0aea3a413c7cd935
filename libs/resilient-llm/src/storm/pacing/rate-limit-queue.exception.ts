import { HttpException, HttpStatus } from '@nestjs/common';
import type { RetryAfterHint } from '../../errors/retry-after.js';
import type { RateLimitWaitExceededError } from './rate-limit-wait-exceeded.error.js';
import { hasBrand } from '../../errors/brand.js';

const brand = Symbol.for('resilient-llm.RateLimitQueueException');

/**
 * 503: the provider's rate limit for this model has no room for the request before its
 * deadline (or too many wait already). Nothing was sent, nothing was reserved.
 */
export class RateLimitQueueException extends HttpException implements RetryAfterHint {
  readonly [brand] = true;
  readonly retryAfterSeconds: number;

  constructor(model: string, refusal: RateLimitWaitExceededError) {
    const why = refusal.reason === 'deadline' ? `no room within the ${refusal.bound} ms the call may still wait` : `${refusal.bound} requests wait for it already`;
    super(
      { statusCode: 503, code: 'rate_limit_wait_exceeded', message: `The provider's rate limit for "${model}" has ${why}; room is expected in ${Math.ceil(refusal.retryAfterMs / 1000)} s.` },
      HttpStatus.SERVICE_UNAVAILABLE,
    );
    this.retryAfterSeconds = Math.max(1, Math.ceil(refusal.retryAfterMs / 1000));
  }
}

export const isRateLimitQueueException = (error: unknown): error is RateLimitQueueException => hasBrand(error, brand);
