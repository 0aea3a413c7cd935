import { type BeforeApplicationShutdown, HttpException, Inject, Injectable, Logger } from '@nestjs/common';
import type { Span } from '@opentelemetry/api';
import type { BackoffOptions, ResolvedBackoffOptions } from '../backoff/backoff-options.interface.js';
import { resolveBackoffOptions } from '../backoff/backoff-options.validation.js';
import { BudgetGuard } from '../budget/budget.guard.js';
import type { BudgetState } from '../budget/budget-state.js';
import { CallBudget } from '../budget/call-budget.js';
import { BudgetExhaustedException } from '../budget/budget-exhausted.exception.js';
import { ShuttingDownException } from '../errors/shutting-down.exception.js';
import { LlmPricing } from '../pricing/llm-pricing.service.js';
import type { TokenUsage } from '../pricing/model-price.interface.js';
import { InjectClock, InjectGuardedSettings } from '../resilient-llm.constants.js';
import { StormControl } from '../storm/storm-control.js';
import { type GuardedCallEvents, RESILIENT_LLM_CALL_EVENTS } from './guarded-call-events.js';
import type { Clock } from '../time/clock.interface.js';
import { callerFacingError } from './call-failure.js';
import { GuardedCall, type GuardedCallSettings, type GuardedCallView, type RetryMode, activeGuardedCall, guardedCallStorage } from './guarded-call.context.js';
import type { GuardedSettings } from './guarded-options.js';
import { HandlerRetries } from './handler-retries.js';

export interface GuardedCallRequest {
  /** Model the call is priced at; the module's `defaultModel` when omitted. */
  model?: string;
  /** Tokens the call is expected to use; with a budget configured, their worst-case price is reserved on admission. */
  estimatedTokens?: number;
  /** Per-call backoff settings over the module's. */
  backoff?: BackoffOptions;
  /** The caller's scope key, for per-scope budgets. */
  scopeKey?: string;
  /** The request's idempotency record id: upstream requests carry keys derived from it. */
  idempotencyKey?: string;
  /** Cancels the call: its requests, its backoff sleeps and its retries. */
  signal?: AbortSignal;
  /**
   * Cancels the call on an event that has no AbortSignal (a client's disconnect): called with
   * the call's abort once the call opens, it returns the unsubscribe, called when the call ends.
   */
  abortWhen?: (abort: (reason: unknown) => void) => () => void;
  /** Names the call's origin in configuration errors, e.g. `@Guarded() on ChatController.reply`. */
  source?: string;
  /** `request` (default): each upstream request is retried; `handler`: the operation is run again. */
  retry?: RetryMode;
  /** Turns an upstream failure the call gave up on into its HTTP answer (`LlmCallFailedException`). */
  httpErrors?: boolean;
  /** The output cap set on the call's chat and Responses requests that have none (`@Guarded({ maxOutputTokens })`). */
  maxOutputTokens?: number;
}

/**
 * Opens, joins and finishes guarded calls: one deadline, one abort signal, one root span and
 * one budget per call. The operation runs once (unless `retry: 'handler'`); the guarded
 * transport retries each upstream request inside it. A call started inside another joins it.
 */
@Injectable()
export class GuardedCallRunner implements BeforeApplicationShutdown {
  private readonly logger = new Logger('GuardedCallRunner');
  private readonly resolvedOverrides = new WeakMap<BackoffOptions, ResolvedBackoffOptions>();
  private readonly active = new Set<GuardedCall>();
  private shuttingDown = false;

  constructor(
    private readonly budget: BudgetGuard,
    private readonly pricing: LlmPricing,
    @Inject(RESILIENT_LLM_CALL_EVENTS) private readonly events: GuardedCallEvents,
    private readonly storm: StormControl,
    private readonly handlerRetries: HandlerRetries,
    @InjectGuardedSettings() private readonly options: GuardedSettings,
    @InjectClock() private readonly clock: Clock,
  ) {}

  /**
   * Before the HTTP server closes (which waits for in-flight requests): calls in flight stop
   * retrying at once, answer 503 with Retry-After and settle their budget, so that the process
   * exits promptly; calls that arrive meanwhile are refused the same way.
   */
  beforeApplicationShutdown(): void {
    this.shuttingDown = true;
    for (const call of this.active) call.abort(new ShuttingDownException());
  }

  run<T>(request: GuardedCallRequest, operation: (call: GuardedCallView) => Promise<T>): Promise<T> {
    // A call that has ended (a request fired and forgotten by its handler) is not joined: the
    // request becomes a call of its own, with its own reservation and settlement.
    const outer = activeGuardedCall();
    if (!outer || outer.closed) return this.runCall(request, operation);
    try {
      return operation(outer.view);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private async runCall<T>(request: GuardedCallRequest, operation: (call: GuardedCallView) => Promise<T>): Promise<T> {
    if (this.shuttingDown) throw new ShuttingDownException();

    const call = this.open(request);
    const unlink = this.link(call, request);
    this.active.add(call);
    let failure: unknown;
    try {
      return await this.events.within(call.span, () =>
        guardedCallStorage.run(call, () => (call.settings.retry === 'handler' ? this.handlerRetries.run(call, operation) : operation(call.view))),
      );
    } catch (error) {
      failure = request.httpErrors ? callerFacingError(error, call.failure ?? abortAnswer(call)) : error;
      throw failure;
    } finally {
      call.closed = true;
      unlink();
      this.active.delete(call);
      await this.finish(call, failure);
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

  private open(request: GuardedCallRequest): GuardedCall {
    const model = request.model ?? this.options.defaultModel;
    const span = this.events.startCall({ model, estimatedTokens: request.estimatedTokens, scopeKey: request.scopeKey });
    try {
      const estimateMicro = request.estimatedTokens !== undefined && this.budget.enabled ? this.pricing.worstCaseMicroUsd(model, request.estimatedTokens) : 0;
      // The budget and the call refer to each other: the budget reads the call's deadline and makes it strict.
      let call: GuardedCall;
      const budget = this.callBudget(request, model, estimateMicro, span, () => call);
      call = this.newCall(request, model, span, budget);
      return call;
    } catch (error) {
      this.events.endCall(span, { outcome: 'failure', attempts: 0, costMicro: 0, wasteMicro: 0, model, error });
      throw error;
    }
  }

  /** The call's share of the budget: what it is told goes on the call's span, and a critical budget makes the call strict. */
  private callBudget(request: GuardedCallRequest, model: string, estimateMicro: number, span: Span, callOf: () => GuardedCall): CallBudget {
    const goStrictWhen = (state: BudgetState) => {
      if (state !== 'critical' || callOf().strict) return;
      callOf().strict = true;
      this.events.strict(span);
    };
    return new CallBudget(
      this.budget,
      request.scopeKey,
      model,
      estimateMicro,
      request.retry === 'handler',
      {
        admitted: (state) => goStrictWhen(state),
        wantsWindowFigures: () => span.isRecording(),
        reserved: (reservation, amountMicro) => {
          this.events.budgetReserved(span, reservation.tightest, amountMicro);
          goStrictWhen(reservation.state);
        },
        rejected: (rejection) => this.events.budgetRejected(span, rejection),
      },
      () => callOf().deadlineAtMs,
    );
  }

  private newCall(request: GuardedCallRequest, model: string, span: Span, budget: CallBudget): GuardedCall {
    const settings: GuardedCallSettings = {
      model,
      estimatedTokens: request.estimatedTokens,
      backoff: this.backoffFor(request.backoff, request.source),
      strictBackoff: this.options.strictBackoff,
      scopeKey: request.scopeKey,
      idempotencyRecordId: request.idempotencyKey,
      retry: request.retry ?? 'request',
      maxOutputTokens: request.maxOutputTokens,
    };
    const price = (priced: string, usage: TokenUsage) => this.pricing.costMicroUsd(priced, usage);
    return new GuardedCall(settings, this.clock.now(), span, budget, price, async () => {
      // An open circuit (with no fallback) refuses the call before the budget is read.
      this.storm.chooseModel(model);
      await budget.admitCall();
    });
  }

  /** Settles the budget at what the call really cost and ends its span; a stream still being read does this when it ends. */
  private async finish(call: GuardedCall, failure: unknown): Promise<void> {
    const succeeded = failure === undefined;
    const settleAndEnd = async () => {
      const lostMicro = call.completions.filter((c) => !succeeded || c.run !== call.run).reduce((sum, c) => sum + c.costMicroUsd, 0);
      // A handler that reported no usage is settled at its estimate: spend is never under-counted.
      const unreported = succeeded && call.completions.length === 0 ? call.budget.estimateMicro : 0;
      const costMicro = call.spentMicro + unreported;
      const wasteMicro = call.budget.chargedMicro + lostMicro;
      if (call.budget.reservation) {
        await call.budget.settle({ succeeded, actualMicro: costMicro, wasteMicro });
        // Telemetry only: a store that fails to answer now must not keep the span from ending.
        if (call.span.isRecording()) {
          const window = await this.budget.tightestWindow(call.budget.reservation).catch(() => undefined);
          this.events.budgetSettled(call.span, window, costMicro, wasteMicro);
        }
      }
      this.events.endCall(call.span, {
        outcome: outcomeOf(call, failure),
        attempts: call.attempts.length,
        costMicro,
        wasteMicro,
        model: call.settings.model,
        giveUpReason: call.giveUpReason,
        error: failure,
      });
    };
    // Errors here must not replace the call's own result; the budget retries what it could not store.
    const warn = (error: unknown) => this.logger.warn(`Finishing a guarded call failed: ${(error as Error).message}`);
    if (call.isHeld) {
      void call.released().then(settleAndEnd).catch(warn);
      return;
    }
    await settleAndEnd().catch(warn);
  }

  private link(call: GuardedCall, { signal, abortWhen }: GuardedCallRequest): () => void {
    const unsubscribe = abortWhen?.((reason) => call.abort(reason));
    if (!signal) return unsubscribe ?? noop;
    if (signal.aborted) call.abort(signal.reason);
    const abort = () => call.abort(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    return () => {
      signal.removeEventListener('abort', abort);
      unsubscribe?.();
    };
  }
}

const noop = () => undefined;

/** A call aborted with an HTTP answer (shutdown) gives that answer, whatever the SDK made of the abort. */
function abortAnswer(call: GuardedCall): Error | undefined {
  const reason: unknown = call.aborted ? call.abortReason : undefined;
  return reason instanceof HttpException ? reason : undefined;
}

function outcomeOf(call: GuardedCall, failure: unknown): string {
  if (failure === undefined) return 'success';
  if (failure instanceof BudgetExhaustedException) return 'budget_rejected';
  if (call.aborted) return 'aborted';
  return 'failure';
}
