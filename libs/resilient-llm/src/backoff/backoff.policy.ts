import { Injectable } from '@nestjs/common';
import { InjectClock, InjectRandom, InjectBackoffSettings } from '../resilient-llm.constants.js';
import type { Clock, RandomSource } from '../time/clock.interface.js';
import type { BackoffSettings, ResolvedBackoffOptions } from './backoff-options.interface.js';
import { computeDelay } from './backoff-strategy.js';
import { type FailureClassification, classifyFailure } from './error-classifier.js';
import { type ServerDelaySource, parseServerRequestedDelay } from './retry-after.js';

export type DelaySource = 'computed' | ServerDelaySource;

export type GiveUpReason = 'not_retryable' | 'max_attempts' | 'deadline' | 'server_wait_exceeds_deadline' | 'retry_budget_exhausted';

export type RetryDecision =
  | { retry: true; delayMs: number; source: DelaySource; classification: FailureClassification }
  | { retry: false; reason: GiveUpReason; classification: FailureClassification; serverDelayMs?: number };

export interface RetryState {
  /** Attempts made so far, the failed one included (1 after the first failure). */
  attemptsMade: number;
  /** When the call's first attempt started, on the injected clock. */
  startedAtMs: number;
  /** The delay slept before the last retry; undefined before the first retry. */
  previousDelayMs?: number;
}

/**
 * Decides whether a failed attempt is retried, and after how long. Stateless: the per-call
 * state travels in `RetryState`, and per-call settings in `options`, so strict mode for one
 * call never touches the module's configuration.
 */
@Injectable()
export class BackoffPolicy {
  constructor(
    @InjectBackoffSettings() private readonly moduleOptions: BackoffSettings,
    @InjectClock() private readonly clock: Clock,
    @InjectRandom() private readonly random: RandomSource,
  ) {}

  get defaults(): ResolvedBackoffOptions {
    return this.moduleOptions.backoff;
  }

  decide(state: RetryState, error: unknown, options: ResolvedBackoffOptions = this.defaults): RetryDecision {
    const classification = classifyFailure(error);
    const nowMs = this.clock.now();
    // Read once: a give-up passes the server's wait on to the client as Retry-After.
    const requested = parseServerRequestedDelay(classification.headers, nowMs);
    const giveUp = (reason: GiveUpReason): RetryDecision => ({ retry: false, reason, classification, serverDelayMs: requested?.delayMs });
    if (!classification.retryable) return giveUp('not_retryable');
    if (state.attemptsMade >= options.maxAttempts) return giveUp('max_attempts');

    const remainingMs = options.deadlineMs - (nowMs - state.startedAtMs);
    if (remainingMs <= 0) return giveUp('deadline');
    if (requested) {
      if (requested.delayMs > remainingMs) return giveUp('server_wait_exceeds_deadline');
      return { retry: true, delayMs: Math.min(requested.delayMs, options.maxServerDelayMs), source: requested.source, classification };
    }

    const multiplier = classification.kind === 'server_error' ? options.serverErrorMultiplier : 1;
    const delayMs = Math.round(
      multiplier *
        computeDelay(options.strategy, {
          retryIndex: state.attemptsMade - 1,
          baseMs: options.baseMs,
          capMs: options.capMs,
          previousDelayMs: state.previousDelayMs ?? options.baseMs,
          random: this.random,
        }),
    );
    if (delayMs >= remainingMs) return giveUp('deadline');
    return { retry: true, delayMs, source: 'computed', classification };
  }
}
