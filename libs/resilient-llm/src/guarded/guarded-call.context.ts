import type { Span } from '@opentelemetry/api';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FailureKind } from '../backoff/error-classifier.js';
import type { ResolvedBackoffOptions } from '../backoff/backoff-options.interface.js';
import type { CallBudget } from '../budget/call-budget.js';
import type { TokenUsage } from '../pricing/model-price.interface.js';
import { GuardedCallReadOnly, type GuardedCallView } from './guarded-call-read-only.js';

export type { GuardedCallView } from './guarded-call-read-only.js';
import { upstreamKeyBase } from '../idempotency/idempotency-key.js';

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
  /** The request's idempotency record id, which upstream keys derive from; none: random keys. */
  idempotencyRecordId?: string;
  retry: RetryMode;
  /** The output cap set on the call's chat and Responses requests that have none; the module's default when undefined. */
  maxOutputTokens?: number;
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
  /** Why the call was aborted, once it was. */
  abortReason?: unknown;
  private isAborted = false;
  // Made only when something asks for the call's signal: most calls are never aborted, and an
  // AbortController per call is a measurable share of a guarded call's cost.
  private controller?: AbortController;
  private readonly abortListeners = new Set<(reason: unknown) => void>();
  private requestCount = 0;
  private keyBase?: string;
  private heldCount = 0;
  private whenReleased?: { promise: Promise<void>; resolve: () => void };
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
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.isAborted) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.isAborted;
  }

  abort(reason: unknown = new DOMException('This operation was aborted', 'AbortError')): void {
    if (this.isAborted) return;
    this.isAborted = true;
    this.abortReason = reason;
    this.controller?.abort(reason);
    for (const listener of [...this.abortListeners]) listener(reason);
  }

  /** Runs `listener` when the call is aborted (at once if it was); returns the unsubscribe. */
  onAbort(listener: (reason: unknown) => void): () => void {
    if (this.isAborted) {
      listener(this.abortReason);
      return () => undefined;
    }
    this.abortListeners.add(listener);
    return () => this.abortListeners.delete(listener);
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

  /** What the call's upstream idempotency keys start with, made at its first request. */
  get upstreamKeyBase(): string {
    this.keyBase ??= upstreamKeyBase(this.settings.idempotencyRecordId);
    return this.keyBase;
  }

  /** Keeps the call's settlement waiting until the returned function runs (a stream still being read). */
  hold(): () => void {
    this.heldCount++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.heldCount > 0 || !this.whenReleased) return;
      this.whenReleased.resolve();
      this.whenReleased = undefined;
    };
  }

  /** Resolves once nothing holds the call (a count, not a promise per hold: holds are taken on every attempt). */
  released(): Promise<void> {
    if (this.heldCount === 0) return Promise.resolve();
    if (!this.whenReleased) {
      let resolve!: () => void;
      const promise = new Promise<void>((done) => (resolve = done));
      this.whenReleased = { promise, resolve };
    }
    return this.whenReleased.promise;
  }

  get isHeld(): boolean {
    return this.heldCount > 0;
  }

  /** The read-only face of the call, for `currentGuardedCall()`. */
  get view(): GuardedCallView {
    this.viewed ??= new GuardedCallReadOnly(this);
    return this.viewed;
  }
}

export const guardedCallStorage = new AsyncLocalStorage<GuardedCall>();

/** The guarded call the current code runs in (internal: the mutable call). */
export const activeGuardedCall = (): GuardedCall | undefined => guardedCallStorage.getStore();

/** The guarded call the current code runs in, if any: a read-only view. */
export const currentGuardedCall = (): GuardedCallView | undefined => guardedCallStorage.getStore()?.view;
