import { HttpException, HttpStatus } from '@nestjs/common';

const brand = Symbol.for('resilient-llm.BudgetStoreUnavailableException');

/** 503: the budget store cannot be reached and the module fails closed, so no upstream request is made. */
export class BudgetStoreUnavailableException extends HttpException {
  readonly [brand] = true;

  /** The driver's error stays in the logs and in `cause`: its text can name hosts and users. */
  constructor(cause: unknown) {
    super(
      {
        statusCode: 503,
        code: 'budget_store_unavailable',
        message: 'The budget store is unavailable; LLM calls are refused until it is back (budget.onStoreError is "fail-closed").',
      },
      HttpStatus.SERVICE_UNAVAILABLE,
      { cause },
    );
  }
}

export const isBudgetStoreUnavailableException = (error: unknown): error is BudgetStoreUnavailableException =>
  typeof error === 'object' && error !== null && brand in error;
