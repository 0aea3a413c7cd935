import type { Span } from '@opentelemetry/api';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FailureKind } from '../backoff/error-classifier.js';
import type { ResolvedBackoffOptions } from '../backoff/backoff-options.interface.js';
import type { CallBudget } from '../budget/call-budget.js';
import type { TokenUsage } from '../pricing/model-price.interface.js';

export interface AttemptRecord {
  /** 1 for the first attempt of its upstream request (or of the handler, with `retry: 'handler'`). */
  attempt: number;
  /** Which upstream request of the call it belongs to, 1-based; 0 for a handler run. */
  request: number;
  outcome: 'success' | 'failure';
  durationMs: number;
  failureKind?: FailureKind;
  upstreamStatus?: number;
}

export interface CompletionRecord extends TokenUsage {
  model: string;
  costMicroUsd: number;
  /** The handler run that used it (always 1 unless `retry: 'handler'`): completions of failed runs are waste. */
  run: number;
  /** True when the upstream reported no usage and it was estimated. */
  estimated: boolean;
}

/** How a guarded call retries: each upstream request (default), or the whole handler (opt-in, pure handlers only). */
export type RetryMode = 'request' | 'handler';

export interface GuardedCallSettings {
  /** The model calls are priced at, when a request names none. */
  model: string;
  /** Tokens the call is expected to use; their worst-case price is reserved before the handler's body runs. */
  estimatedTokens?: number;
  backoff: ResolvedBackoffOptions;
  /** The backoff of strict mode, used once a budget window turned critical for this call. */
  strictBackoff: ResolvedBackoffOptions;
  scopeKey?: string;
  /** What upstream idempotency keys derive from: the request's key, or a random one per call. */
  idempotencyBase: string;
  retry: RetryMode;
  /** The output cap set on the call's chat and Responses requests that have none; the module's default when undefined. */
  maxOutputTokens?: number;
}

/** What code inside a guarded call can see of it: read-only. */
export interface GuardedCallView {
  /** The handler run now, 1-based (more than 1 only with `retry: 'handler'`). */
  readonly attempt: number;
  /** Every upstream attempt (or handler run) so far. */
  readonly attempts: readonly AttemptRecord[];
  /** Every completion's usage and price so far, in the order they came. */
  readonly completions: readonly CompletionRecord[];
  /** Tokens and cost of every completion so far. */
  readonly usage: TokenUsage & { costMicroUsd: number };
  /** Everything the call has cost so far, in micro-dollars: completions plus charged failed attempts. */
  readonly spentMicro: number;
  /** Admitted while a budget window was critical: stricter backoff, maybe a cheaper model. */
  readonly strict: boolean;
  readonly scopeKey?: string;
  readonly model: string;
  /** When the call gives up, on the module's clock (epoch ms). */
  readonly deadlineAtMs: number;
  /** Aborted when the caller goes away or the app shuts down. */
  readonly signal: AbortSignal;
  /** Records usage of an LLM call the guarded transport cannot see, so that the budget settles at the real price. */
  recordUsage(model: string, usage: TokenUsage): void;
}

type Pricer = (model: string, usage: TokenUsage) => number;

/**
 * One guarded call: a handler (or a lone request) with its deadline, abort signal, span, budget
 * and the upstream requests made inside it. Per call, so one call's state (strict mode, say)
 * never leaks into another's.
 */
export class GuardedCall {
  readonly attempts: AttemptRecord[] = [];
  readonly completions: CompletionRecord[] = [];
  /** The handler run now (1 unless `retry: 'handler'` re-ran it). */
  run = 1;
  strict = false;
  /** With `retry: 'handler'`: the span of the handler run now, where the transport's attributes go. */
  attemptSpan?: Span;
  /** Set once the call has ended: a request made after that (fire-and-forget) is a call of its own. */
  closed = false;
  /** Why the call stopped retrying, once a request gave up. */
  giveUpReason?: string;
  /** The failure a request gave up on, as the HTTP answer the caller should get. */
  failure?: Error;
  private readonly controller = new AbortController();
  private requestCount = 0;
  private readonly holds = new Set<Promise<void>>();
  private viewed?: GuardedCallView;
  private admission?: Promise<void>;

  constructor(
    readonly settings: GuardedCallSettings,
    readonly startedAtMs: number,
    readonly span: Span,
    readonly budget: CallBudget,
    private readonly price: Pricer,
    private readonly admitter: () => Promise<void>,
  ) {}

  /** Budget (and circuit) admission, once, before the handler's body runs: refused calls do none of their work. */
  admit(): Promise<void> {
    this.admission ??= this.admitter();
    return this.admission;
  }

  get isAdmitted(): boolean {
    return this.admission !== undefined;
  }

  get backoff(): ResolvedBackoffOptions {
    return this.strict ? this.settings.strictBackoff : this.settings.backoff;
  }

  get deadlineAtMs(): number {
    return this.startedAtMs + this.backoff.deadlineMs;
  }

  /** Aborted when the caller goes away or the app shuts down: requests and sleeps stop. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(reason?: unknown): void {
    this.controller.abort(reason);
  }

  get usage(): TokenUsage & { costMicroUsd: number } {
    let inputTokens = 0;
    let outputTokens = 0;
    let costMicroUsd = 0;
    for (const completion of this.completions) {
      inputTokens += completion.inputTokens;
      outputTokens += completion.outputTokens;
      costMicroUsd += completion.costMicroUsd;
    }
    return { inputTokens, outputTokens, costMicroUsd };
  }

  /** Everything this call has cost so far: completions plus charged failed attempts. */
  get spentMicro(): number {
    return this.usage.costMicroUsd + this.budget.chargedMicro;
  }

  recordUsage(model: string, usage: TokenUsage, estimated = false): void {
    const { inputTokens, outputTokens, cachedInputTokens, cacheWriteTokens, reasoningTokens } = usage;
    // Totals, and the parts of them that are billed at other rates (cache reads and writes, reasoning), when reported.
    const tokens: TokenUsage = { inputTokens, outputTokens };
    if (cachedInputTokens) tokens.cachedInputTokens = cachedInputTokens;
    if (cacheWriteTokens) tokens.cacheWriteTokens = cacheWriteTokens;
    if (reasoningTokens) tokens.reasoningTokens = reasoningTokens;
    this.completions.push({ model, ...tokens, costMicroUsd: this.price(model, tokens), run: this.run, estimated });
  }

  /** A request the transport cannot price from its usage, counted at what it may have cost. */
  recordCharge(model: string, costMicroUsd: number): void {
    this.completions.push({ model, inputTokens: 0, outputTokens: 0, costMicroUsd, run: this.run, estimated: true });
  }

  /** The handler runs again (`retry: 'handler'`): its requests are the same requests, with the same upstream keys. */
  nextRun(): void {
    this.run++;
    this.requestCount = 0;
  }

  /** Numbers the call's upstream requests (per handler run): each gets its own upstream idempotency key, kept on its retries. */
  nextRequestNumber(): number {
    return ++this.requestCount;
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

  /** The read-only face of the call, for `currentGuardedCall()`. */
  get view(): GuardedCallView {
    if (this.viewed) return this.viewed;
    const call = this;
    this.viewed = Object.freeze({
      get attempt() {
        return call.run;
      },
      get attempts() {
        return Object.freeze([...call.attempts]);
      },
      get completions() {
        return Object.freeze([...call.completions]);
      },
      get usage() {
        return call.usage;
      },
      get spentMicro() {
        return call.spentMicro;
      },
      get strict() {
        return call.strict;
      },
      scopeKey: call.settings.scopeKey,
      model: call.settings.model,
      get deadlineAtMs() {
        return call.deadlineAtMs;
      },
      signal: call.signal,
      recordUsage: (model: string, usage: TokenUsage) => call.recordUsage(model, usage),
    });
    return this.viewed;
  }
}

export const guardedCallStorage = new AsyncLocalStorage<GuardedCall>();

/** The guarded call the current code runs in (internal: the mutable call). */
export const activeGuardedCall = (): GuardedCall | undefined => guardedCallStorage.getStore();

/** The guarded call the current code runs in, if any: a read-only view. */
export const currentGuardedCall = (): GuardedCallView | undefined => guardedCallStorage.getStore()?.view;
