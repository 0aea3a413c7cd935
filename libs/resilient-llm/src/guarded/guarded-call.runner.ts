import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Span } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import { BackoffPolicy, type RetryDecision } from '../backoff/backoff.policy.js';
import type { BackoffOptions, ResolvedBackoffOptions } from '../backoff/backoff-options.interface.js';
import { resolveBackoffOptions } from '../backoff/backoff-options.validation.js';
import { BudgetGuard } from '../budget/budget.guard.js';
import { BudgetExhaustedException } from '../errors/budget-exhausted.exception.js';
import { LlmCallFailedException } from '../errors/llm-call-failed.exception.js';
import type { ResolvedResilientLlmOptions } from '../module/resilient-llm-options.interface.js';
import { LlmPricing } from '../pricing/llm-pricing.service.js';
import { InjectClock, InjectResilientLlmOptions, InjectSleeper } from '../resilient-llm.constants.js';
import { StormControl } from '../storm/storm-control.js';
import { ResilientLlmTelemetry } from '../telemetry/resilient-llm.telemetry.js';
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
 * sleeps, give-up, settlement, and the span tree of all that. A call started inside another
 * guarded call joins it and runs once, so retries happen at one layer only.
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
    private readonly telemetry: ResilientLlmTelemetry,
    private readonly storm: StormControl,
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

    const model = request.model ?? this.options.defaultModel;
    const span = this.telemetry.startCall({ model, estimatedTokens: request.estimatedTokens, scopeKey: request.scopeKey });
    let call: GuardedCall | undefined;
    let failure: unknown;
    try {
      call = await this.open(request, model, span);
      const opened = call;
      const unlink = this.link(opened, request.signal);
      this.active.add(opened);
      try {
        return await this.telemetry.within(span, () => this.attempts(opened, span, operation));
      } finally {
        unlink();
        this.active.delete(opened);
      }
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      await this.finish(call, span, failure);
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
  private async open(request: GuardedCallRequest, requested: string, span: Span): Promise<GuardedCall> {
    const startedAtMs = this.clock.now();
    // An open circuit fails the call here, before any budget is reserved; a fallback may stand in.
    const model = this.storm.chooseModel(requested);
    if (model !== requested) this.telemetry.fallback(span, requested, model);
    let estimateMicro = 0;
    let reservation;
    if (request.estimatedTokens !== undefined && this.budget.enabled) {
      estimateMicro = this.pricing.worstCaseMicroUsd(model, request.estimatedTokens);
      try {
        reservation = await this.budget.reserve({ scopeKey: request.scopeKey, amountMicro: estimateMicro, model });
      } catch (error) {
        if (error instanceof BudgetExhaustedException) this.telemetry.budgetRejected(span, error);
        throw error;
      }
      this.telemetry.budgetReserved(span, reservation.tightest, estimateMicro);
    }
    const strict = reservation?.state === 'critical';
    if (strict) this.telemetry.strict(span);
    const call = new GuardedCall(
      {
        model: strict ? this.storm.strictModel(model) : model,
        estimatedTokens: request.estimatedTokens,
        backoff: strict ? this.options.strictBackoff : this.backoffFor(request.backoff, request.source),
        scopeKey: request.scopeKey,
        strict,
        idempotencyBase: request.idempotencyKey ?? randomUUID(),
      },
      startedAtMs,
      (priced, usage) => this.pricing.costMicroUsd(priced, usage),
    );
    call.estimateMicro = estimateMicro;
    call.reservation = reservation;
    return call;
  }

  private async attempts<T>(call: GuardedCall, span: Span, operation: (call: GuardedCall) => Promise<T>): Promise<T> {
    let previousDelayMs: number | undefined;
    const retryBudget = this.storm.retryBudget(call.settings.model);
    retryBudget?.onFirstAttempt();
    for (;;) {
      const attemptStartedAt = this.clock.now();
      const attemptSpan = this.telemetry.startAttempt(span, call.attempt, call.settings.model);
      call.attemptSpan = attemptSpan;
      try {
        const result = await this.telemetry.within(attemptSpan, () => guardedCallStorage.run(call, () => operation(call)));
        call.attempts.push({ attempt: call.attempt, outcome: 'success', durationMs: this.clock.now() - attemptStartedAt });
        this.telemetry.endAttempt(attemptSpan, call.settings.model);
        retryBudget?.onSuccess();
        return result;
      } catch (error) {
        let decision = this.policy.decide(
          { attemptsMade: call.attempts.length + 1, startedAtMs: call.startedAtMs, previousDelayMs },
          error,
          call.settings.backoff,
        );
        // A rate limit with Retry-After is the server pacing us: it neither draws on the retry budget
        // nor is refused by it. An outage that sends Retry-After is still an outage, and counts.
        const serverDirected = decision.retry && decision.source !== 'computed' && decision.classification.kind === 'rate_limited';
        if (decision.classification.retryable && !serverDirected) retryBudget?.onFailure();
        if (decision.retry && !serverDirected && retryBudget && !retryBudget.tryRetry()) {
          // Too many failures across calls lately: this one stops here instead of adding load.
          this.telemetry.retryBudgetDenied(span, call.settings.model, retryBudget.available);
          decision = { retry: false, reason: 'retry_budget_exhausted', classification: decision.classification, serverDelayMs: decision.source === 'computed' ? undefined : decision.delayMs };
        }
        const { kind, status } = decision.classification;
        call.attempts.push({ attempt: call.attempt, outcome: 'failure', durationMs: this.clock.now() - attemptStartedAt, failureKind: kind, upstreamStatus: status });
        this.telemetry.endAttempt(attemptSpan, call.settings.model, { classification: decision.classification, retrying: decision.retry });
        // A timed-out request may still be billed by the provider: count it, as waste.
        if (kind === 'timeout' && call.reservation && this.options.budget.chargeTimedOutAttempts) call.chargedMicro += call.estimateMicro;
        if (!decision.retry) throw this.giveUp(error, decision, call);
        if (call.reservation) {
          // Each retry is paid for: hold what was spent so far plus one more attempt, or stop here.
          await this.budget.topUp(call.reservation, call.spentMicro + call.estimateMicro - this.budget.heldMicro(call.reservation), call.attempts.length);
        }
        previousDelayMs = decision.delayMs;
        const startedAt = this.clock.now();
        try {
          await this.sleeper.sleep(decision.delayMs, call.signal);
        } finally {
          this.telemetry.backoff(span, { startedAt, delayMs: decision.delayMs, source: decision.source, strategy: call.settings.backoff.strategy });
        }
      }
    }
  }

  private giveUp(error: unknown, decision: Extract<RetryDecision, { retry: false }>, call: GuardedCall): unknown {
    const { kind } = decision.classification;
    call.giveUpReason = decision.reason;
    // The handler's own errors and caller aborts pass through untouched: they are answers, not outages.
    if (kind === 'application' || kind === 'aborted') return error;
    return new LlmCallFailedException(decision, call.attempts.length, error);
  }

  /** Settles the budget at what the call really cost and ends its span; a stream still being read does this when it ends. */
  private async finish(call: GuardedCall | undefined, span: Span, failure: unknown): Promise<void> {
    const succeeded = call !== undefined && failure === undefined;
    const settleAndEnd = async () => {
      let costMicro = 0;
      let wasteMicro = 0;
      if (call) {
        const finalAttempt = succeeded ? call.attempts.length : Number.NaN;
        const lostCompletions = call.completions.filter((c) => c.attempt !== finalAttempt).reduce((sum, c) => sum + c.costMicroUsd, 0);
        // A handler that reported no usage is settled at its estimate: spend is never under-counted.
        const unreported = succeeded && call.completions.length === 0 ? call.estimateMicro : 0;
        costMicro = call.spentMicro + unreported;
        wasteMicro = call.chargedMicro + lostCompletions;
        if (call.reservation) {
          await this.budget.settle(call.reservation, { succeeded, actualMicro: costMicro, wasteMicro });
          // Telemetry only: a store that fails to answer now must not keep the span from ending.
          if (span.isRecording()) {
            const window = await this.budget.tightestWindow(call.reservation).catch(() => undefined);
            this.telemetry.budgetSettled(span, window, costMicro, wasteMicro);
          }
        }
      }
      this.telemetry.endCall(span, {
        outcome: outcomeOf(call, failure),
        attempts: call?.attempts.length ?? 0,
        costMicro,
        wasteMicro,
        model: call?.settings.model ?? 'unknown',
        giveUpReason: call?.giveUpReason,
        error: failure,
      });
    };
    // Errors here must not replace the call's own result; the budget retries what it could not store.
    const warn = (error: unknown) => this.logger.warn(`Finishing a guarded call failed: ${(error as Error).message}`);
    if (call?.isHeld) {
      void call.released().then(settleAndEnd).catch(warn);
      return;
    }
    await settleAndEnd().catch(warn);
  }

  private link(call: GuardedCall, signal: AbortSignal | undefined): () => void {
    if (!signal) return () => undefined;
    if (signal.aborted) call.abort(signal.reason);
    const abort = () => call.abort(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    return () => signal.removeEventListener('abort', abort);
  }
}

function outcomeOf(call: GuardedCall | undefined, failure: unknown): string {
  if (failure === undefined) return 'success';
  if (failure instanceof BudgetExhaustedException) return 'budget_rejected';
  if (call?.signal.aborted) return 'aborted';
  return 'failure';
}
