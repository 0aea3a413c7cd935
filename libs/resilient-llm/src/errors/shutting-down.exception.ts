import { HttpException, HttpStatus } from '@nestjs/common';
import type { RetryAfterHint } from './retry-after.js';
import { hasBrand } from './brand.js';

const brand = Symbol.for('resilient-llm.ShuttingDownException');

/**
 * 503: the app is shutting down (SIGTERM with `enableShutdownHooks()`): in-flight guarded calls
 * stop retrying at once and answer this, so that the process can exit and the client retries
 * elsewhere.
 */
export class ShuttingDownException extends HttpException implements RetryAfterHint {
  readonly [brand] = true;
  readonly retryAfterSeconds = 1;

  constructor() {
    super(
      { statusCode: 503, code: 'shutting_down', message: 'The service is shutting down; the LLM call was stopped. Retry shortly.' },
      HttpStatus.SERVICE_UNAVAILABLE,
    );
  }
}

export const isShuttingDownException = (error: unknown): error is ShuttingDownException => hasBrand(error, brand);
