import { HttpException, HttpStatus } from '@nestjs/common';
import type { RetryAfterHint } from '../errors/retry-after.js';
import { hasBrand } from '../errors/brand.js';

const brand = Symbol.for('resilient-llm.IdempotencyStoreUnavailableException');

/** Seconds a client is asked to wait: long enough for a lock to clear or a connection to come back. */
export const IDEMPOTENCY_STORE_RETRY_AFTER_SECONDS = 5;

/**
 * 503: a request with an idempotency key arrived while the idempotency store could not be read
 * or written. The handler does not run: without its record, a repeat of the request could run
 * twice, which is what the key was sent to prevent. The client retries with the same key.
 */
export class IdempotencyStoreUnavailableException extends HttpException implements RetryAfterHint {
  readonly [brand] = true;
  readonly retryAfterSeconds = IDEMPOTENCY_STORE_RETRY_AFTER_SECONDS;

  /** The driver's error stays in the logs and in `cause`: its text can name hosts and users. */
  constructor(header: string, cause: unknown) {
    super(
      {
        statusCode: 503,
        code: 'idempotency_store_unavailable',
        message: `The idempotency store is unavailable, so a request with an ${header} header cannot be run safely; nothing was done. Retry with the same key.`,
      },
      HttpStatus.SERVICE_UNAVAILABLE,
      { cause },
    );
  }
}

export const isIdempotencyStoreUnavailableException = (error: unknown): error is IdempotencyStoreUnavailableException => hasBrand(error, brand);
