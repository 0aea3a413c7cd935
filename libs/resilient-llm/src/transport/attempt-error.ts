import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { parseJsonObject } from './adapters/index.js';

// What undici says when the network failed: before an answer ("fetch failed", with the system
// error as its cause) or while reading one ("terminated", a socket closed by the other side).
const NETWORK_FAILURE = /fetch failed|terminated|other side closed|socket|ECONN|EPIPE|ETIMEDOUT|EAI_AGAIN|UND_ERR/i;

function describesNetwork(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++, current = (current as { cause?: unknown }).cause) {
    const { message, code, name } = current as { message?: unknown; code?: unknown; name?: unknown };
    if ([message, code, name].some((text) => typeof text === 'string' && NETWORK_FAILURE.test(text))) return true;
  }
  return false;
}

/**
 * An attempt's thrown error, as the retry loop, the classifier and the SDK should see it: the
 * caller's abort, the attempt's own timeout (the SDK turns a "timed out" error into
 * `APIConnectionTimeoutError`), a network failure (retryable), or anything else as it is: a
 * bug of ours is not an outage, and is not retried.
 */
export function attemptError(thrown: unknown, state: { aborted: boolean; timedOut: boolean; timeoutMs: number }): unknown {
  if (state.aborted) {
    const aborted = new Error('the request was aborted: the caller went away, or the application is shutting down', { cause: thrown });
    aborted.name = 'AbortError';
    return aborted;
  }
  if (state.timedOut) return new APIConnectionTimeoutError({ message: `Request timed out after ${state.timeoutMs} ms.` });
  if (thrown instanceof APIError) return thrown;
  if (describesNetwork(thrown)) return new APIConnectionError({ message: 'Connection error.', cause: thrown as Error });
  return thrown;
}

/** A non-2xx answer: the error the SDK raises for it, and the answer kept whole to hand back on give-up. */
export async function refusedAnswer(sent: Response): Promise<{ response: Response; error: APIError }> {
  const text = await sent.text();
  const error = APIError.generate(sent.status, parseJsonObject(text), undefined, sent.headers);
  return { response: new Response(text, { status: sent.status, statusText: sent.statusText, headers: sent.headers }), error };
}
