import { Injectable } from '@nestjs/common';
import { BackoffPolicy, type RetryDecision } from '../backoff/backoff.policy.js';
import type { BackoffOptions, ResolvedBackoffOptions } from '../backoff/backoff-options.interface.js';
import { resolveBackoffOptions } from '../backoff/backoff-options.validation.js';
import { parseServerRequestedDelay } from '../backoff/retry-after.js';
import { LlmCallFailedException } from '../errors/llm-call-failed.exception.js';
import type { ResolvedResilientLlmOptions } from '../module/resilient-llm-options.interface.js';
import { InjectClock, InjectResilientLlmOptions, InjectSleeper } from '../resilient-llm.constants.js';
import type { Clock, Sleeper } from '../time/clock.interface.js';
import { GuardedCall, currentGuardedCall, guardedCallStorage } from './guarded-call.context.js';

export interface GuardedCallRequest {
  /** Model the call is priced at; the module's `defaultModel` when omitted. */
  model?: string;
  estimatedTokens?: number;
  /** Per-call backoff settings over the module's (validated when the decorator was applied). */
  backoff?: BackoffOptions;
  /** Aborts the backoff sleeps between attempts (the operation watches it for its own requests). */
  signal?: AbortSignal;
}

/**
 * Runs an operation as a guarded call: attempts, classification, backoff sleeps, give-up.
 * A call started inside another guarded call joins it and runs once, so retries happen at
 * one layer only, never attempts x attempts.
 */
@Injectable()
export class GuardedCallRunner {
  private readonly resolvedOverrides = new WeakMap<BackoffOptions, ResolvedBackoffOptions>();

  constructor(
    private readonly policy: BackoffPolicy,
    @InjectResilientLlmOptions() private readonly options: ResolvedResilientLlmOptions,
    @InjectClock() private readonly clock: Clock,
    @InjectSleeper() private readonly sleeper: Sleeper,
  ) {}

  async run<T>(request: GuardedCallRequest, operation: (call: GuardedCall) => Promise<T>): Promise<T> {
    const outer = currentGuardedCall();
    if (outer) return operation(outer);

    const call = new GuardedCall(
      { model: request.model ?? this.options.defaultModel, estimatedTokens: request.estimatedTokens, backoff: this.backoffFor(request.backoff) },
      this.clock.now(),
    );
    let previousDelayMs: number | undefined;
    for (;;) {
      const attemptStartedAt = this.clock.now();
      try {
        const result = await guardedCallStorage.run(call, () => operation(call));
        call.attempts.push({ attempt: call.attempt, outcome: 'success', durationMs: this.clock.now() - attemptStartedAt });
        return result;
      } catch (error) {
        const decision = this.policy.decide(
          { attemptsMade: call.attempts.length + 1, startedAtMs: call.startedAtMs, previousDelayMs },
          error,
          call.settings.backoff,
        );
        call.attempts.push({
          attempt: call.attempt,
          outcome: 'failure',
          durationMs: this.clock.now() - attemptStartedAt,
          failureKind: decision.classification.kind,
          upstreamStatus: decision.classification.status,
        });
        if (!decision.retry) throw this.giveUp(error, decision, call);
        previousDelayMs = decision.delayMs;
        await this.sleeper.sleep(decision.delayMs, request.signal);
      }
    }
  }

  private giveUp(error: unknown, decision: Extract<RetryDecision, { retry: false }>, call: GuardedCall): unknown {
    const { kind, headers } = decision.classification;
    // The handler's own errors and caller aborts pass through untouched: they are answers, not outages.
    if (kind === 'application' || kind === 'aborted') return error;
    const serverDelay = parseServerRequestedDelay(headers, this.clock.now());
    return new LlmCallFailedException(decision, call.attempts.length, error, serverDelay?.delayMs);
  }

  private backoffFor(overrides: BackoffOptions | undefined): ResolvedBackoffOptions {
    if (!overrides) return this.options.backoff;
    let resolved = this.resolvedOverrides.get(overrides);
    if (!resolved) {
      resolved = resolveBackoffOptions('@Guarded().backoff', this.options.backoff, overrides);
      this.resolvedOverrides.set(overrides, resolved);
    }
    return resolved;
  }
}
