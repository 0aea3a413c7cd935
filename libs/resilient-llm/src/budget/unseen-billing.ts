import type { FailureClassification } from '../backoff/error-classifier.js';

// The connection was never made: nothing reached the provider, nothing can have been billed.
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function neverConnected(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 6; depth++, current = (current as { cause?: unknown }).cause) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NEVER_CONNECTED.has(code)) return true;
  }
  return false;
}

/**
 * Whether a failed attempt may have been billed without anyone learning what it used: it went
 * out and no answer came back to say it failed. A timeout (when `chargeTimedOutAttempts`), a
 * caller's abort or a client's disconnect, a connection lost on the way: the provider may have
 * run the whole request. Such an attempt is charged its worst case, as waste. An error answer
 * (429, 5xx) is known not billed; a connection never made sent nothing.
 */
export function mayBeBilledUnseen(
  failed: { response?: unknown; error?: unknown },
  classification: Pick<FailureClassification, 'kind'>,
  budget: { chargeTimedOutAttempts: boolean },
): boolean {
  if (failed.response !== undefined) return false;
  switch (classification.kind) {
    case 'timeout':
      return budget.chargeTimedOutAttempts;
    case 'aborted':
      return true;
    case 'connection':
      return !neverConnected(failed.error);
    default:
      return false;
  }
}
