import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { BackoffPolicy, type RetryDecision } from '../backoff/backoff.policy.js';
import type { BackoffOptions, ResolvedBackoffOptions } from '../backoff/backoff-options.interface.js';
import { resolveBackoffOptions } from '../backoff/backoff-options.validation.js';
import { parseServerRequestedDelay } from '../backoff/retry-after.js';
import { BudgetGuard } from '../budget/budget.guard.js';
import { LlmCallFailedException } from '../errors/llm-call-failed.exception.js';
import type { ResolvedResilientLlmOptions } from '../module/resilient-llm-options.interface.js';
import { LlmPricing } from '../pricing/llm-pricing.service.js';
import { InjectClock, InjectResilientLlmOptions, InjectSleeper } from '../resilient-llm.constants.js';
import type { Clock, Sleeper } from '../time/clock.interface.js';
import { GuardedCall, currentGuardedCall, guardedCallStorage } from './guarded-call.context.js';

export interface GuardedCallRequest {
  /** Model the call is priced at; the module's `defaultModel` when omitted. */
  model?: string;
  /** Tokens one attempt is expected to use; with a budget configured, their worst-case price is reserved. */
  estimatedTokens?: number;
  /** Per-call backoff settings over the module's. */
  backoff?: BackoffOptions;
  /** The caller's scope key, for per-scope budgets. */
  scopeKey?: string;
  /** The request's idempotency record id: upstream requests carry keys derived from it. */
  idempotencyKey?: string;
  /** Cancels the call: its requests, its backoff sleeps and its retries. */
  signal?: AbortSignal;
  /** Names the call's origin in configuration errors, e.g. `@Guarded() on ChatController.reply`. */
  source?: string;
}

/**
 * Runs an operation as a guarded call: budget reservation, attempts, classification, backoff
 * sleeps, give-up, settlement. A call started inside another guarded call joins it and runs
 * once, so retries happen at one layer only, never attempts x attempts.
 */
@Injectable()
export class GuardedCallRunner implements OnApplicationShutdown {
  private readonly logger = new Logger('GuardedCallRunner');
  private readonly resolvedOverrides = new WeakMap<BackoffOptions, ResolvedBackoffOptions>();
  private readonly active = new Set<GuardedCall>();

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly budget: BudgetGuard,
    private readonly pricing: LlmPricing,
    @InjectResilientLlmOptions() private readonly options: ResolvedResilientLlmOptions,
    @InjectClock() private readonly clock: Clock,
    @InjectSleeper() private readonly sleeper: Sleeper,
  ) {}

  onApplicationShutdown(): void {
    for (const call of this.active) call.abort(new Error('the application is shutting down'));
  }

  async run<T>(request: GuardedCallRequest, operation: (call: GuardedCall) => Promise<T>): Promise<T> {
    const outer = currentGuardedCall();
    if (outer) return operation(outer);

    const call = await this.open(request);
    const unlink = this.link(call, request.signal);
    this.active.add(call);
    let succeeded = false;
    try {
      const result = await this.attempts(call, operation);
      succeeded = true;
      return result;
    } finally {
      unlink();
      this.active.delete(call);
      await this.settle(call, succeeded);
    }
  }

  /** Checks per-call backoff settings against the module's, e.g. at startup for every `@Guarded` handler. */
  backoffFor(overrides: BackoffOptions | undefined, source = '@Guarded()'): ResolvedBackoffOptions {
    if (!overrides) return this.options.backoff;
    let resolved = this.resolvedOverrides.get(overrides);
    if (!resolved) {
      resolved = resolveBackoffOptions(`${source}: backoff`, this.options.backoff, overrides);
      this.resolvedOverrides.set(overrides, resolved);
    }
    return resolved;
  }

  /** Reserves the budget (or refuses before any attempt) and fixes the call's settings. */
  private async open(request: GuardedCallRequest): Promise<GuardedCall> {
    const startedAtMs = this.clock.now();
    const model = request.model ?? this.options.defaultModel;
    const pricer = (priced: string, usage: { inputTokens: number; outputTokens: number }) => this.pricing.costMicroUsd(priced, usage);
    let estimateMicro = 0;
    let reservation;
    if (request.estimatedTokens !== undefined && this.budget.enabled) {
      estimateMicro = this.pricing.worstCaseMicroUsd(model, request.estimatedTokens);
      reservation = await this.budget.reserve({ scopeKey: request.scopeKey, amountMicro: estimateMicro, model });
    }
    const strict = reservation?.state === 'critical';
    const call = new GuardedCall(
      {
        model: strict ? (this.options.budget.fallbackModel ?? model) : model,
        estimatedTokens: request.estimatedTokens,
        backoff: strict ? this.options.strictBackoff : this.backoffFor(request.backoff, request.source),
        scopeKey: request.scopeKey,
        strict,
        idempotencyBase: request.idempotencyKey ?? randomUUID(),
      },
      startedAtMs,
      pricer,
    );
    call.estimateMicro = estimateMicro;
    call.reservation = reservation;
    return call;
  }

  private async attempts<T>(call: GuardedCall, operation: (call: GuardedCall) => Promise<T>): Promise<T> {
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
        const { kind, status } = decision.classification;
        call.attempts.push({ attempt: call.attempt, outcome: 'failure', durationMs: this.clock.now() - attemptStartedAt, failureKind: kind, upstreamStatus: status });
        // A timed-out request may still be billed by the provider: count it, as waste.
        if (kind === 'timeout' && call.reservation && this.options.budget.chargeTimedOutAttempts) call.chargedMicro += call.estimateMicro;
        if (!decision.retry) throw this.giveUp(error, decision, call);
        if (call.reservation) {
          // Each retry is paid for: hold what was spent so far plus one more attempt, or stop here.
          await this.budget.topUp(call.reservation, call.spentMicro + call.estimateMicro - this.budget.heldMicro(call.reservation), call.attempts.length);
        }
        previousDelayMs = decision.delayMs;
        await this.sleeper.sleep(decision.delayMs, call.signal);
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

  /** Settles the reservation at what the call really cost; a stream still being read settles when it ends. */
  private async settle(call: GuardedCall, succeeded: boolean): Promise<void> {
    const reservation = call.reservation;
    if (!reservation) return;
    const finish = async () => {
      const finalAttempt = succeeded ? call.attempts.length : Number.NaN;
      const lostCompletions = call.completions.filter((c) => c.attempt !== finalAttempt).reduce((sum, c) => sum + c.costMicroUsd, 0);
      // A handler that reported no usage is settled at its estimate: spend is never under-counted.
      const unreported = succeeded && call.completions.length === 0 ? call.estimateMicro : 0;
      await this.budget.settle(reservation, {
        succeeded,
        actualMicro: call.spentMicro + unreported,
        wasteMicro: call.chargedMicro + lostCompletions,
      });
    };
    if (!call.isHeld) return finish();
    void call.released().then(finish, (error: unknown) => this.logger.warn(`Settling a streamed call failed: ${(error as Error).message}`));
  }

  private link(call: GuardedCall, signal: AbortSignal | undefined): () => void {
    if (!signal) return () => undefined;
    if (signal.aborted) call.abort(signal.reason);
    const abort = () => call.abort(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    return () => signal.removeEventListener('abort', abort);
  }
}
