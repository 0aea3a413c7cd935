import { HttpException, HttpStatus } from '@nestjs/common';
import type { RetryAfterHint } from '../errors/retry-after.js';
import { hasBrand } from '../errors/brand.js';

const brand = Symbol.for('resilient-llm.ConcurrencyLimitException');

/** 503: the model's concurrency limit is reached and its queue is full or too slow; no upstream request was made. */
export class ConcurrencyLimitException extends HttpException implements RetryAfterHint {
  readonly [brand] = true;
  readonly retryAfterSeconds = 1;

  constructor(model: string, why: string) {
    super(
      { statusCode: 503, code: 'concurrency_limit_exceeded', message: `Too many concurrent requests to model "${model}": ${why}. Retry shortly.` },
      HttpStatus.SERVICE_UNAVAILABLE,
    );
  }
}

export const isConcurrencyLimitException = (error: unknown): error is ConcurrencyLimitException => hasBrand(error, brand);
