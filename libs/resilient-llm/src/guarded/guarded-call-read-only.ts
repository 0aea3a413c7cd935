import type { TokenUsage } from '../pricing/model-price.interface.js';
import type { AttemptRecord, CompletionRecord, GuardedCall } from './guarded-call.context.js';

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

/**
 * The read-only face of a guarded call (`currentGuardedCall()`): live figures, copied lists.
 * A class rather than an object literal of getters, which V8 builds slowly, on every call.
 */
export class GuardedCallReadOnly implements GuardedCallView {
  readonly #call: GuardedCall;
  /** Bound: handlers pass it around on its own. */
  readonly recordUsage: (model: string, usage: TokenUsage) => void;

  constructor(call: GuardedCall) {
    this.#call = call;
    this.recordUsage = (model, usage) => call.recordUsage(model, usage);
    Object.freeze(this);
  }

  get attempt(): number {
    return this.#call.run;
  }

  get attempts(): readonly AttemptRecord[] {
    return Object.freeze([...this.#call.attempts]);
  }

  get completions(): readonly CompletionRecord[] {
    return Object.freeze([...this.#call.completions]);
  }

  get usage(): TokenUsage & { costMicroUsd: number } {
    return this.#call.usage;
  }

  get spentMicro(): number {
    return this.#call.spentMicro;
  }

  get strict(): boolean {
    return this.#call.strict;
  }

  get scopeKey(): string | undefined {
    return this.#call.settings.scopeKey;
  }

  get model(): string {
    return this.#call.settings.model;
  }

  get deadlineAtMs(): number {
    return this.#call.deadlineAtMs;
  }

  get signal(): AbortSignal {
    return this.#call.signal;
  }

  /** The figures, for a log line: the getters live on the prototype, where JSON.stringify does not look. */
  toJSON(): Omit<GuardedCallView, 'signal' | 'recordUsage'> {
    const { attempt, attempts, completions, usage, spentMicro, strict, scopeKey, model, deadlineAtMs } = this;
    return { attempt, attempts, completions, usage, spentMicro, strict, scopeKey, model, deadlineAtMs };
  }
}
