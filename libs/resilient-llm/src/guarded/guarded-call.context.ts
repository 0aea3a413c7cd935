import { AsyncLocalStorage } from 'node:async_hooks';
import type { FailureKind } from '../backoff/error-classifier.js';
import type { ResolvedBackoffOptions } from '../backoff/backoff-options.interface.js';
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
}

export interface GuardedCallSettings {
  model: string;
  /** Undefined for a client call made outside any guarded handler. */
  estimatedTokens?: number;
  backoff: ResolvedBackoffOptions;
}

/**
 * One guarded call: every attempt of a handler (or of a lone client call) and what the
 * upstream billed for it. Budget and telemetry attach here; the state is per call, so one
 * call's settings never leak into another's.
 */
export class GuardedCall {
  readonly attempts: AttemptRecord[] = [];
  readonly completions: CompletionRecord[] = [];

  constructor(
    readonly settings: GuardedCallSettings,
    readonly startedAtMs: number,
  ) {}

  /** The attempt running now, 1-based. */
  get attempt(): number {
    return this.attempts.length + 1;
  }

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

  recordCompletion(completion: CompletionRecord): void {
    this.completions.push(completion);
  }
}

export const guardedCallStorage = new AsyncLocalStorage<GuardedCall>();

/** The guarded call the current code runs in, if any. */
export const currentGuardedCall = (): GuardedCall | undefined => guardedCallStorage.getStore();
