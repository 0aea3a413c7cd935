/** What the upstream received: the ground truth tests and benchmarks count against. */
export interface UpstreamStats {
  /** Requests to the model endpoints, all together; `byPath` tells them apart. */
  totalRequests: number;
  /** Requests by endpoint: `/v1/chat/completions`, `/v1/responses`, `/v1/embeddings`, each there from 0. */
  byPath: Record<string, number>;
  /**
   * By answer: HTTP status ("200", "503", ...), "timeout" / "reset" when nothing was answered,
   * "stream_error" for a 200 stream that failed midway, "aborted" when the client left mid-stream.
   */
  byOutcome: Record<string, number>;
  streamedRequests: number;
  maxConcurrent: number;
  inFlight: number;
  /** `Idempotency-Key` header values seen, with how often each came. */
  idempotencyKeys: Record<string, number>;
  /**
   * Tokens billed for answers: the successful ones served (also when the client had gone away
   * by then, as a provider bills them), the input of `stream_error` streams, and of a stream the
   * client left midway its input and the words written until then.
   */
  servedTokens: { input: number; output: number };
  /** Model requests by the model they named. */
  byModel: Record<string, number>;
  /**
   * Prompt tokens of requests that hung (`timeout`) or were dropped (`reset`) after their
   * body arrived: a provider has usually processed, and billed, the prompt by then.
   */
  abandonedPromptTokens: number;
  /** 429s the script's `rateLimit` answered (a scripted `429` fault is not one): also in `byOutcome["429"]`. */
  rateLimited: number;
  /**
   * Attempts whose `x-logical-request` id came before: retries of a logical request. Attempts
   * without the header are each their own logical request, never retries.
   */
  retryRequests: number;
  /** The part of `abandonedPromptTokens` billed for retries: the prompt tokens retry waste counts. */
  retryAbandonedPromptTokens: number;
}

export function emptyStats(): UpstreamStats {
  return {
    totalRequests: 0,
    // Every endpoint from the start, so that "none reached this one" reads as 0, not as missing.
    byPath: { '/v1/chat/completions': 0, '/v1/responses': 0, '/v1/embeddings': 0 },
    byOutcome: {},
    streamedRequests: 0,
    maxConcurrent: 0,
    inFlight: 0,
    idempotencyKeys: {},
    servedTokens: { input: 0, output: 0 },
    byModel: {},
    abandonedPromptTokens: 0,
    rateLimited: 0,
    retryRequests: 0,
    retryAbandonedPromptTokens: 0,
  };
}
