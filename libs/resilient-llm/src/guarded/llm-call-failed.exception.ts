import { HttpException, HttpStatus } from '@nestjs/common';
import type { GiveUpReason, RetryDecision } from '../backoff/backoff.policy.js';
import type { FailureClassification } from '../backoff/error-classifier.js';
import type { RetryAfterHint } from '../errors/retry-after.js';
import { hasBrand } from '../errors/brand.js';

const brand = Symbol.for('resilient-llm.LlmCallFailedException');

export type LlmCallFailureCode = 'upstream_rejected' | 'upstream_unavailable' | 'retry_deadline_exceeded' | 'context_length_exceeded';

export interface LlmCallFailureBody {
  statusCode: number;
  code: LlmCallFailureCode;
  message: string;
  giveUpReason: GiveUpReason;
  attempts: number;
  cause: { kind: FailureClassification['kind']; upstreamStatus?: number; upstreamCode?: string };
}

const GIVE_UP: Record<GiveUpReason, { status: number; code: LlmCallFailureCode; why: (attempts: number) => string }> = {
  not_retryable: { status: HttpStatus.BAD_GATEWAY, code: 'upstream_rejected', why: () => 'not retried' },
  max_attempts: { status: HttpStatus.SERVICE_UNAVAILABLE, code: 'upstream_unavailable', why: (n) => `gave up after the maximum of ${n} attempts` },
  deadline: {
    status: HttpStatus.GATEWAY_TIMEOUT,
    code: 'retry_deadline_exceeded',
    why: (n) => `gave up after ${n} attempts: the call's deadline has passed, or the next delay would pass it`,
  },
  retry_budget_exhausted: {
    status: HttpStatus.SERVICE_UNAVAILABLE,
    code: 'upstream_unavailable',
    why: (n) => `gave up after ${n} attempt(s): the retry budget is spent (too many recent failures), so no retry was made`,
  },
  server_wait_exceeds_deadline: {
    status: HttpStatus.SERVICE_UNAVAILABLE,
    code: 'upstream_unavailable',
    why: (n) => `gave up after ${n} attempts: the upstream asked to wait past the call's deadline`,
  },
};

function describe(classification: FailureClassification): string {
  if (classification.status === undefined) return classification.reason;
  const code = classification.code ? ` (${classification.code})` : '';
  return `HTTP ${classification.status}${code}: ${classification.reason}`;
}

/**
 * A guarded LLM call that failed for good. The body names the cause (kind, upstream status
 * and code) but never the upstream's message, which can echo a masked API key.
 */
export class LlmCallFailedException extends HttpException implements RetryAfterHint {
  readonly [brand] = true;
  /** Seconds a client should wait before trying again, when the upstream said so. */
  readonly retryAfterSeconds?: number;

  constructor(
    decision: Extract<RetryDecision, { retry: false }>,
    readonly attempts: number,
    cause: unknown,
  ) {
    const { classification } = decision;
    // The caller's prompt is too long: theirs to fix, so a 4xx that no client retries.
    const { status, code, why } =
      classification.kind === 'context_length'
        ? { status: HttpStatus.UNPROCESSABLE_ENTITY, code: 'context_length_exceeded' as const, why: GIVE_UP.not_retryable.why }
        : GIVE_UP[decision.reason];
    const body: LlmCallFailureBody = {
      statusCode: status,
      code,
      message: `The LLM call failed: ${describe(classification)}; ${why(attempts)}.`,
      giveUpReason: decision.reason,
      attempts,
      cause: { kind: classification.kind, upstreamStatus: classification.status, upstreamCode: classification.code },
    };
    super(body, status, { cause });
    const waitMs = decision.serverDelayMs;
    if (waitMs !== undefined && status === HttpStatus.SERVICE_UNAVAILABLE) this.retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
  }
}

export const isLlmCallFailedException = (error: unknown): error is LlmCallFailedException => hasBrand(error, brand);
