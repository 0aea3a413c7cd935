import { HttpException, HttpStatus } from '@nestjs/common';
import type { RetryAfterHint } from '../errors/retry-after.js';
import { hasBrand } from '../errors/brand.js';

const brand = Symbol.for('resilient-llm.IdempotencyRequestException');

export type IdempotencyErrorCode =
  | 'idempotency_key_missing'
  | 'idempotency_key_invalid'
  | 'idempotency_body_too_large'
  | 'idempotency_body_too_deep'
  | 'idempotency_key_reused'
  | 'idempotency_request_in_progress';

const STATUS: Record<IdempotencyErrorCode, number> = {
  idempotency_key_missing: HttpStatus.BAD_REQUEST,
  idempotency_key_invalid: HttpStatus.BAD_REQUEST,
  idempotency_body_too_large: HttpStatus.BAD_REQUEST,
  idempotency_body_too_deep: HttpStatus.BAD_REQUEST,
  idempotency_key_reused: HttpStatus.UNPROCESSABLE_ENTITY,
  idempotency_request_in_progress: HttpStatus.CONFLICT,
};

/**
 * A request the idempotency layer refuses before the handler runs (IETF draft semantics):
 * 400 missing, malformed or repeated key, or a body too large or too deep to fingerprint; 422 the key was used with another payload, 409 the first
 * request with the key is still running (with `Retry-After`).
 */
export class IdempotencyRequestException extends HttpException implements RetryAfterHint {
  readonly [brand] = true;
  readonly retryAfterSeconds?: number;

  constructor(
    readonly code: IdempotencyErrorCode,
    message: string,
  ) {
    super({ statusCode: STATUS[code], code, message }, STATUS[code]);
    if (code === 'idempotency_request_in_progress') this.retryAfterSeconds = 1;
  }
}

export const isIdempotencyRequestException = (error: unknown): error is IdempotencyRequestException => hasBrand(error, brand);
