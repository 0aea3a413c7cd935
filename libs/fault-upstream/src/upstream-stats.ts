/** What the upstream received: the ground truth tests and benchmarks count against. */
export interface UpstreamStats {
  /** Requests to `/v1/chat/completions`. */
  totalRequests: number;
  /** By answer: HTTP status ("200", "503", ...), or "timeout" / "reset" when nothing was answered. */
  byOutcome: Record<string, number>;
  streamedRequests: number;
  maxConcurrent: number;
  inFlight: number;
  /** `Idempotency-Key` header values seen, with how often each came. */
  idempotencyKeys: Record<string, number>;
  /** Input and output tokens of the successful completions served. */
  servedTokens: { input: number; output: number };
  /** Completion requests by the model they named. */
  byModel: Record<string, number>;
  /**
   * Prompt tokens of requests that hung (`timeout`) or were dropped (`reset`) after their
   * body arrived: a provider has usually processed, and billed, the prompt by then.
   */
  abandonedPromptTokens: number;
}

export function emptyStats(): UpstreamStats {
  return {
    totalRequests: 0,
    byOutcome: {},
    streamedRequests: 0,
    maxConcurrent: 0,
    inFlight: 0,
    idempotencyKeys: {},
    servedTokens: { input: 0, output: 0 },
    byModel: {},
    abandonedPromptTokens: 0,
  };
}
