import { APIError } from 'openai';
import { classifyFailure } from '../backoff/error-classifier.js';
import type { GiveUp } from './retry-decision.js';
import { LlmCallFailedException } from './llm-call-failed.exception.js';

/**
 * The HTTP answer for a request that gave up: a `LlmCallFailedException` for upstream
 * failures; none for the handler's own errors and caller aborts, which are answers, not outages.
 */
export function failureFor(decision: GiveUp, attempts: number, cause: unknown): LlmCallFailedException | undefined {
  const { kind } = decision.classification;
  if (kind === 'application' || kind === 'aborted') return undefined;
  return new LlmCallFailedException(decision, attempts, cause);
}

/**
 * What a guarded handler's error becomes. An upstream failure the transport gave up on
 * reaches the handler as the SDK's error (an `APIError`, or an `APIConnectionError` around
 * the transport's own refusal); unless the handler answered with an HTTP exception of its own,
 * the caller gets the transport's answer instead: 503/504/502 with the cause, or its 429.
 */
export function callerFacingError(error: unknown, failure: Error | undefined): unknown {
  if (isHttpException(error)) return error;
  for (let cause: unknown = error, depth = 0; cause && depth < 5; depth++, cause = (cause as { cause?: unknown }).cause) {
    if (cause !== error && (isHttpException(cause) || isOwnError(cause))) return cause;
  }
  return failure && isUpstreamError(error) ? failure : error;
}

const isHttpException = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && typeof (value as { getStatus?: unknown }).getStatus === 'function' && typeof (value as { getResponse?: unknown }).getResponse === 'function';

/** The library's own non-HTTP errors (an unpriced model, say) pass through the SDK's wrapper as they are. */
const isOwnError = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && Object.getOwnPropertySymbols(value).some((symbol) => symbol.description?.startsWith('resilient-llm.'));

/** An error the `openai` SDK (or another SDK over `llm.fetch`) raised for an upstream answer or connection. */
const isUpstreamError = (value: unknown): boolean => {
  if (typeof value !== 'object' || value === null) return false;
  const name = (value as { name?: unknown }).name;
  return value instanceof APIError || classifyFailure(value).kind !== 'application' || (typeof name === 'string' && /API|Connection|Timeout/.test(name));
};
