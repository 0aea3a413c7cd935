export interface IdempotencyOptions {
  /** Request header carrying the key. Default `'Idempotency-Key'`. */
  header?: string;
  /** How long a stored response is replayed, in milliseconds. Default 86 400 000 (24 h). */
  ttlMs?: number;
  /**
   * How long a request may run before another with the same key may take over (its executor
   * is presumed dead), in milliseconds. Default 600 000; at least `backoff.deadlineMs + client.attemptTimeoutMs`.
   */
  leaseMs?: number;
  /** Largest request body fingerprinted, in bytes; a larger one is refused with 400. Default 1 048 576. */
  maxBodyBytes?: number;
  /** Response headers stored and replayed with the body. Default `['location']`. */
  storedHeaders?: string[];
  /** Treat every POST, PUT, PATCH and DELETE handler as `@Idempotent()` (key optional). Default false. */
  applyToUnsafeMethods?: boolean;
}

export interface ResolvedIdempotencyOptions {
  header: string;
  ttlMs: number;
  leaseMs: number;
  maxBodyBytes: number;
  storedHeaders: string[];
  applyToUnsafeMethods: boolean;
}

/** The idempotency interceptor's slice of the resolved module options (token `RESILIENT_LLM_IDEMPOTENCY_SETTINGS`). */
export interface IdempotencySettings {
  readonly idempotency: ResolvedIdempotencyOptions;
  /** How long a request waits for the store, in milliseconds (`storage.maxWaitMs`). */
  readonly storage: { readonly maxWaitMs: number };
}
