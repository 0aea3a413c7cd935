import type { Span } from '@opentelemetry/api';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FailureKind } from '../backoff/error-classifier.js';
import type { ResolvedBackoffOptions } from '../backoff/backoff-options.interface.js';
import type { BudgetReservation } from '../budget/budget-status.interface.js';
import type { TokenUsage } from '../pricing/model-price.interface.js';

export interface AttemptRecord {
  /** 1 for the first attempt. */
  attempt: number;
  outcome: 'success' | 'failure';
  durationMs: number;
  failureKind?: FailureKind;
  upstreamStatus?: number;
}

export interface CompletionRecord extends TokenUsage {
  model: string;
  costMicroUsd: number;
  /** The attempt that made it: completions of failed attempts are waste. */
  attempt: number;
  /** True when the upstream reported no usage and it was estimated. */
  estimated: boolean;
}

export interface GuardedCallSettings {
  /** The model calls are priced at (the strict-mode fallback when one applies). */
  model: string;
  /** Tokens one attempt is expected to use (a lone client call estimates them from its request). */
  estimatedTokens?: number;
  backoff: ResolvedBackoffOptions;
  scopeKey?: string;
  /** Admitted while a budget window was critical: stricter backoff, maybe a cheaper model. */
  strict: boolean;
  /** What upstream idempotency keys derive from: the request's key, or a random one per call. */
  idempotencyBase: string;
}

type Pricer = (model: string, usage: TokenUsage) => number;

/**
 * One guarded call: every attempt of a handler (or of a lone client call), what the upstream
 * billed for it, and the budget held for it. The state is per call, so one call's settings
 * (strict mode, say) never leak into another's.
 */
export class GuardedCall {
  readonly attempts: AttemptRecord[] = [];
  readonly completions: CompletionRecord[] = [];
  /** Charged for failed attempts that may have been billed (timeouts), in micro-dollars. */
  chargedMicro = 0;
  /** Worst-case cost of one attempt, as reserved; 0 without a budget. */
  estimateMicro = 0;
  /** Worst cases of this call's upstream requests now in flight, not yet in `spentMicro`. */
  inFlightMicro = 0;
  reservation?: BudgetReservation;
  /** The span of the attempt running now; the client puts the completion's GenAI attributes on it. */
  attemptSpan?: Span;
  /** Why the call stopped retrying, once it has. */
  giveUpReason?: string;
  private readonly controller = new AbortController();
  private requestsInAttempt = { attempt: 0, count: 0 };
  private readonly holds = new Set<Promise<void>>();

  constructor(
    readonly settings: GuardedCallSettings,
    readonly startedAtMs: number,
    private readonly price: Pricer,
  ) {}

  /** The attempt running now, 1-based. */
  get attempt(): number {
    return this.attempts.length + 1;
  }

  get deadlineAtMs(): number {
    return this.startedAtMs + this.settings.backoff.deadlineMs;
  }

  /** Aborted when the caller goes away or the app shuts down: requests and sleeps stop. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(reason?: unknown): void {
    this.controller.abort(reason);
  }

  /** Tokens and cost of every completion so far. */
  get usage(): TokenUsage & { costMicroUsd: number } {
    return this.completions.reduce(
      (sum, completion) => ({
        inputTokens: sum.inputTokens + completion.inputTokens,
        outputTokens: sum.outputTokens + completion.outputTokens,
        costMicroUsd: sum.costMicroUsd + completion.costMicroUsd,
      }),
      { inputTokens: 0, outputTokens: 0, costMicroUsd: 0 },
    );
  }

  /** Everything this call has cost so far: completions plus charged failed attempts. */
  get spentMicro(): number {
    return this.usage.costMicroUsd + this.chargedMicro;
  }

  /**
   * Records a completion's token usage (ResilientLlmClient does this; call it from your own
   * LLM code inside a guarded handler so that the budget is settled at the real price).
   */
  recordUsage(model: string, usage: TokenUsage, estimated = false, attempt = this.attempt): void {
    const tokens = { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens };
    this.completions.push({ model, ...tokens, costMicroUsd: this.price(model, tokens), attempt, estimated });
  }

  /**
   * 1 for the first upstream request of the running attempt, 2 for the second, ...: the n-th
   * request of every attempt is the same request, retried, so it carries the same upstream key.
   */
  nextRequestIndex(): number {
    if (this.requestsInAttempt.attempt !== this.attempt) this.requestsInAttempt = { attempt: this.attempt, count: 0 };
    return ++this.requestsInAttempt.count;
  }

  /** Keeps the call's settlement waiting until the returned function runs (a stream still being read). */
  hold(): () => void {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    this.holds.add(held);
    return () => {
      this.holds.delete(held);
      release();
    };
  }

  async released(): Promise<void> {
    while (this.holds.size > 0) await Promise.all([...this.holds]);
  }

  get isHeld(): boolean {
    return this.holds.size > 0;
  }
}

export const guardedCallStorage = new AsyncLocalStorage<GuardedCall>();

/** The guarded call the current code runs in, if any. */
export const currentGuardedCall = (): GuardedCall | undefined => guardedCallStorage.getStore();
