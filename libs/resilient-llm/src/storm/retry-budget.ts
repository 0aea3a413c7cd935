export interface RetryBudgetSettings {
  /**
   * `throttle` (gRPC A6): every failed attempt takes a token, every success gives back
   * `tokenRatio`; retries only while more than half the bucket is left.
   * `ratio` (Finagle, Google SRE): every first attempt deposits `ratio` tokens, every retry
   * spends one, so retries stay under that share of requests.
   */
  mode: 'throttle' | 'ratio';
  maxTokens: number;
  tokenRatio: number;
  ratio: number;
}

/** A bucket's state as plain JSON, to store and to start another bucket from. */
export interface RetryBudgetSnapshot {
  tokens: number;
}

/** What a call's retry loop asks of a retry budget: this process's own, or one shared by the fleet. */
export interface RetryAllowance {
  readonly available: number;
  onFirstAttempt(): void;
  onSuccess(): void;
  onFailure(): void;
  tryRetry(): boolean;
  reset(): void;
}

/** A token bucket that caps retries across calls: during an outage failures drain it and retries stop. */
export class RetryBudget implements RetryAllowance {
  private tokens: number;

  /** `initialState`: start from a stored bucket (a restart, a fleet-wide budget) instead of a full one. */
  constructor(
    private readonly settings: RetryBudgetSettings,
    initialState?: RetryBudgetSnapshot,
  ) {
    this.tokens = settings.maxTokens;
    if (initialState) this.adopt(initialState.tokens);
  }

  get available(): number {
    return this.tokens;
  }

  /** A first attempt is about to run. */
  onFirstAttempt(): void {
    if (this.settings.mode === 'ratio') this.tokens = Math.min(this.settings.maxTokens, this.tokens + this.settings.ratio);
  }

  onSuccess(): void {
    if (this.settings.mode === 'throttle') this.tokens = Math.min(this.settings.maxTokens, this.tokens + this.settings.tokenRatio);
  }

  onFailure(): void {
    if (this.settings.mode === 'throttle') this.tokens = Math.max(0, this.tokens - 1);
  }

  /** Whether one more retry may run now; spends its token in `ratio` mode. */
  tryRetry(): boolean {
    if (this.settings.mode === 'throttle') return this.tokens > this.settings.maxTokens / 2;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  toJSON(): RetryBudgetSnapshot {
    return { tokens: this.tokens };
  }

  /** Takes over the token count another replica computed; held within [0, maxTokens], as a bad or stale value must not mint retries. */
  adopt(tokens: number): void {
    if (!Number.isFinite(tokens)) return;
    this.tokens = Math.min(this.settings.maxTokens, Math.max(0, tokens));
  }

  reset(): void {
    this.tokens = this.settings.maxTokens;
  }
}
