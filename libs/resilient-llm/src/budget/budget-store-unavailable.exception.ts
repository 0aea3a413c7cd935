import { HttpException, HttpStatus } from '@nestjs/common';
import type { RetryAfterHint } from '../errors/retry-after.js';
import { isStoreFileReplacedError } from '../errors/store-file-replaced.error.js';
import { hasBrand } from '../errors/brand.js';

const brand = Symbol.for('resilient-llm.BudgetStoreUnavailableException');

/** Seconds a client is asked to wait: long enough for a lock to clear or a database to come back. */
export const BUDGET_STORE_RETRY_AFTER_SECONDS = 5;

/** 503: the budget store cannot be reached (or cannot be trusted) and the call is refused, so no upstream request is made. */
export class BudgetStoreUnavailableException extends HttpException implements RetryAfterHint {
  readonly [brand] = true;
  readonly retryAfterSeconds = BUDGET_STORE_RETRY_AFTER_SECONDS;

  /** The driver's error stays in the logs and in `cause`: its text can name hosts, users and paths. */
  constructor(cause: unknown) {
    super(
      {
        statusCode: 503,
        code: 'budget_store_unavailable',
        message: isStoreFileReplacedError(cause)
          ? "The budget store's file was removed or replaced while the app was running; LLM calls are refused until the app is restarted on the right file."
          : 'The budget store is unavailable; LLM calls are refused until it is back (budget.onStoreError is "fail-closed").',
      },
      HttpStatus.SERVICE_UNAVAILABLE,
      { cause },
    );
  }
}

export const isBudgetStoreUnavailableException = (error: unknown): error is BudgetStoreUnavailableException => hasBrand(error, brand);
