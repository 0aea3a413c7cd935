import { Injectable } from '@nestjs/common';
import { type Span, SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { BudgetExhaustedException } from '../budget/budget-exhausted.exception.js';
import type { BudgetObserver } from '../budget/budget-observer.interface.js';
import { scopeKeyOf } from '../budget/budget-scope.js';
import type { BudgetWindowStatus } from '../budget/budget-status.interface.js';
import type {
  AttemptFailureEvent,
  BackoffEvent,
  CallEndEvent,
  CompletionEvent,
  GuardedCallEvents,
} from '../guarded/guarded-call-events.js';
import type { IdempotencyEvents, IdempotencyOutcome } from '../idempotency/idempotency-events.js';
import { InjectClock, InjectTelemetrySettings } from '../resilient-llm.constants.js';
import type { Clock } from '../time/clock.interface.js';
import * as semconv from './semconv.js';
import { sdkRegistered } from './sdk-registered.js';
import type { TelemetrySettings } from './telemetry-settings.interface.js';
import { type BudgetRatios, type Instruments, budgetAttributes, createInstruments, errorType, gaugeBudgetRatios } from './telemetry-instruments.js';
import { AttributeNames, COMMON_ATTRIBUTES, EventNames, INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION, SpanNames } from './telemetry.names.js';

/**
 * Spans and metrics through `@opentelemetry/api` only: with no SDK registered every call here
 * is a no-op. Span times come from the injected clock, so that a backoff span lasts exactly
 * as long as the sleep it stands for.
 */
@Injectable()
export class ResilientLlmTelemetry implements GuardedCallEvents, IdempotencyEvents, BudgetObserver {
  private readonly tracer = trace.getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
  private instruments?: Instruments;
  /** Latest ratio per scope and window, for the observable gauge. */
  private readonly budgetRatios: BudgetRatios = new Map();

  constructor(
    @InjectTelemetrySettings() private readonly options: TelemetrySettings,
    @InjectClock() private readonly clock: Clock,
  ) {}

  /** Created on first use: the metrics API has no proxy, and the app's SDK may start after this module. */
  private get metrics(): Instruments {
    this.instruments ??= createInstruments(this.budgetRatios);
    return this.instruments;
  }

  /** Runs `fn` with `span` as the active span, so that spans made inside become its children. */
  within<T>(span: Span, fn: () => T): T {
    if (!sdkRegistered()) return fn();
    return context.with(trace.setSpan(context.active(), span), fn);
  }

  startCall(attributes: { model: string; estimatedTokens?: number; scopeKey?: string }): Span {
    if (!sdkRegistered()) return this.tracer.startSpan(SpanNames.CALL);
    return this.tracer.startSpan(SpanNames.CALL, {
      startTime: this.clock.now(),
      attributes: {
        ...COMMON_ATTRIBUTES,
        [semconv.ATTR_GEN_AI_OPERATION_NAME]: semconv.GEN_AI_OPERATION_CHAT,
        [semconv.ATTR_GEN_AI_REQUEST_MODEL]: attributes.model,
        ...(attributes.estimatedTokens !== undefined && { [AttributeNames.ESTIMATED_TOKENS]: attributes.estimatedTokens }),
        ...(attributes.scopeKey !== undefined && { [AttributeNames.SCOPE]: attributes.scopeKey }),
      },
    });
  }

  startAttempt(callSpan: Span, attempt: number, model: string, operation: string = semconv.GEN_AI_OPERATION_CHAT): Span {
    if (!sdkRegistered()) return this.tracer.startSpan(SpanNames.ATTEMPT);
    return this.tracer.startSpan(
      SpanNames.ATTEMPT,
      {
        kind: SpanKind.CLIENT,
        startTime: this.clock.now(),
        attributes: {
          ...COMMON_ATTRIBUTES,
          [AttributeNames.ATTEMPT]: attempt,
          [semconv.ATTR_GEN_AI_OPERATION_NAME]: operation,
          [semconv.ATTR_GEN_AI_PROVIDER_NAME]: this.options.telemetry.providerName,
          [semconv.ATTR_GEN_AI_REQUEST_MODEL]: model,
          ...(attempt > 1 && { [semconv.ATTR_HTTP_REQUEST_RESEND_COUNT]: attempt - 1 }),
        },
      },
      trace.setSpan(context.active(), callSpan),
    );
  }

  /** What the upstream answered, on the attempt that got it. */
  completion(attemptSpan: Span | undefined, completion: CompletionEvent): void {
    if (attemptSpan?.isRecording()) this.completionAttributes(attemptSpan, completion);
    const operation = completion.operation ?? semconv.GEN_AI_OPERATION_CHAT;
    const base = { [semconv.ATTR_GEN_AI_OPERATION_NAME]: operation, [semconv.ATTR_GEN_AI_REQUEST_MODEL]: completion.requestModel };
    this.metrics.tokenUsage.record(completion.inputTokens, { ...base, [semconv.ATTR_GEN_AI_TOKEN_TYPE]: 'input' });
    this.metrics.tokenUsage.record(completion.outputTokens, { ...base, [semconv.ATTR_GEN_AI_TOKEN_TYPE]: 'output' });
  }

  private completionAttributes(attemptSpan: Span, completion: CompletionEvent): void {
    attemptSpan.setAttributes({
      [semconv.ATTR_GEN_AI_REQUEST_MODEL]: completion.requestModel,
      ...(completion.responseModel && { [semconv.ATTR_GEN_AI_RESPONSE_MODEL]: completion.responseModel }),
      ...(completion.responseId && { [semconv.ATTR_GEN_AI_RESPONSE_ID]: completion.responseId }),
      [semconv.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: completion.inputTokens,
      [semconv.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: completion.outputTokens,
      ...(this.options.telemetry.captureContent && {
        [semconv.ATTR_GEN_AI_INPUT_MESSAGES]: JSON.stringify(completion.input ?? null),
        [semconv.ATTR_GEN_AI_OUTPUT_MESSAGES]: JSON.stringify(completion.output ?? null),
      }),
    });
  }

  /** How long the attempt waited before it was sent: for an open circuit, for room under the provider's rate limit. */
  heldBeforeAttempt(span: Span, waits: { heldMs: number; pacedMs: number }): void {
    if (waits.heldMs > 0) span.setAttribute(AttributeNames.CIRCUIT_HELD_MS, Math.round(waits.heldMs));
    if (waits.pacedMs > 0) span.setAttribute(AttributeNames.PACING_WAITED_MS, Math.round(waits.pacedMs));
  }

  endAttempt(span: Span, model: string, failure?: AttemptFailureEvent): void {
    if (failure) {
      const { classification } = failure;
      span.setAttributes({
        [semconv.ATTR_ERROR_TYPE]: classification.status !== undefined ? String(classification.status) : classification.kind,
        [AttributeNames.FAILURE_KIND]: classification.kind,
        [AttributeNames.RETRYABLE]: classification.retryable,
        ...(classification.status !== undefined && { [semconv.ATTR_HTTP_RESPONSE_STATUS_CODE]: classification.status }),
        ...(classification.localStallMs !== undefined && { [AttributeNames.LOCAL_STALL_MS]: Math.round(classification.localStallMs) }),
      });
      // The reason, never the upstream's message: it can echo a masked API key.
      span.setStatus({ code: SpanStatusCode.ERROR, message: classification.reason });
      if (failure.retrying) this.metrics.retries.add(1, { [semconv.ATTR_GEN_AI_REQUEST_MODEL]: model, [AttributeNames.FAILURE_KIND]: classification.kind });
    }
    this.metrics.attempts.add(1, { [semconv.ATTR_GEN_AI_REQUEST_MODEL]: model, [AttributeNames.OUTCOME]: failure ? 'failure' : 'success' });
    span.end(this.clock.now());
  }

  /** A backoff span exactly as long as the sleep, made once it is over. */
  backoff(callSpan: Span, sleep: BackoffEvent): void {
    const strategy = sleep.source === 'computed' ? sleep.strategy : 'server';
    this.tracer
      .startSpan(
        SpanNames.BACKOFF,
        {
          startTime: sleep.startedAt,
          attributes: {
            ...COMMON_ATTRIBUTES,
            [AttributeNames.BACKOFF_DELAY_MS]: sleep.delayMs,
            [AttributeNames.BACKOFF_STRATEGY]: strategy,
            [AttributeNames.BACKOFF_SOURCE]: sleep.source,
          },
        },
        trace.setSpan(context.active(), callSpan),
      )
      .end(this.clock.now());
    this.metrics.backoffDelay.record(sleep.delayMs, { [AttributeNames.BACKOFF_SOURCE]: sleep.source });
  }

  budgetReserved(callSpan: Span, window: BudgetWindowStatus | undefined, amountMicro: number): void {
    const attributes = budgetAttributes(window);
    callSpan.setAttributes(attributes);
    callSpan.addEvent(EventNames.BUDGET_RESERVED, { ...attributes, [AttributeNames.BUDGET_REQUESTED]: amountMicro }, this.clock.now());
  }

  budgetSettled(callSpan: Span, window: BudgetWindowStatus | undefined, costMicro: number, wasteMicro: number): void {
    callSpan.addEvent(
      EventNames.BUDGET_SETTLED,
      { ...budgetAttributes(window), [AttributeNames.COST_MICRO_USD]: costMicro, [AttributeNames.WASTE_MICRO_USD]: wasteMicro },
      this.clock.now(),
    );
  }

  budgetRejected(callSpan: Span, rejection: BudgetExhaustedException): void {
    const { window, requestedMicro } = rejection;
    const scope = scopeKeyOf(window.scope);
    callSpan.addEvent(
      EventNames.BUDGET_REJECTED,
      {
        [AttributeNames.BUDGET_STATUS]: 'exhausted',
        [AttributeNames.BUDGET_WINDOW]: `${scope}/${window.kind}`,
        [AttributeNames.BUDGET_LIMIT]: window.limitMicro,
        [AttributeNames.BUDGET_SPENT]: window.spentMicro,
        [AttributeNames.BUDGET_RESERVED]: window.reservedMicro,
        [AttributeNames.BUDGET_REQUESTED]: requestedMicro,
      },
      this.clock.now(),
    );
    this.metrics.budgetRejections.add(1, { [AttributeNames.SCOPE]: scope, [AttributeNames.BUDGET_WINDOW]: window.kind });
  }

  /** The latest state of budget windows, for the `resilient_llm.budget.ratio` gauge. */
  observeBudget(windows: BudgetWindowStatus[]): void {
    gaugeBudgetRatios(this.budgetRatios, windows);
  }

  strict(callSpan: Span): void {
    callSpan.setAttribute(AttributeNames.STRICT, true);
  }

  endCall(span: Span, result: CallEndEvent): void {
    if (span.isRecording()) this.callEndAttributes(span, result);
    this.metrics.calls.add(1, { [AttributeNames.OUTCOME]: result.outcome, [semconv.ATTR_GEN_AI_REQUEST_MODEL]: result.model });
    if (result.costMicro > 0) this.metrics.cost.add(result.costMicro, { [semconv.ATTR_GEN_AI_REQUEST_MODEL]: result.model });
    span.end(this.clock.now());
  }

  private callEndAttributes(span: Span, result: CallEndEvent): void {
    span.setAttributes({
      [AttributeNames.OUTCOME]: result.outcome,
      [AttributeNames.ATTEMPTS]: result.attempts,
      [AttributeNames.COST_MICRO_USD]: result.costMicro,
      [AttributeNames.WASTE_MICRO_USD]: result.wasteMicro,
      ...(result.giveUpReason && { [AttributeNames.GIVE_UP_REASON]: result.giveUpReason }),
    });
    if (result.outcome !== 'success') {
      span.setStatus({ code: SpanStatusCode.ERROR, message: result.giveUpReason ?? result.outcome });
      if (result.error !== undefined) span.setAttribute(semconv.ATTR_ERROR_TYPE, errorType(result.error));
    }
  }

  /** The call (or request) runs on a fallback model. */
  fallback(span: Span | undefined, from: string, to: string): void {
    span?.setAttributes({ [AttributeNames.FALLBACK_FROM]: from, [semconv.ATTR_GEN_AI_REQUEST_MODEL]: to });
  }

  /** A circuit changed state: an event on the span active now (the call that tripped it), and a metric. */
  circuitTransition(model: string, from: string, to: string): void {
    trace.getActiveSpan()?.addEvent(
      EventNames.CIRCUIT_TRANSITION,
      { [semconv.ATTR_GEN_AI_REQUEST_MODEL]: model, [AttributeNames.CIRCUIT_FROM]: from, [AttributeNames.CIRCUIT_STATE]: to },
      this.clock.now(),
    );
    this.metrics.circuitTransitions.add(1, { [semconv.ATTR_GEN_AI_REQUEST_MODEL]: model, [AttributeNames.CIRCUIT_STATE]: to });
  }

  retryBudgetDenied(callSpan: Span, model: string, tokens: number): void {
    callSpan.addEvent(EventNames.RETRY_BUDGET_DENIED, { [semconv.ATTR_GEN_AI_REQUEST_MODEL]: model, [AttributeNames.RETRY_BUDGET_TOKENS]: tokens }, this.clock.now());
    this.metrics.retryBudgetDenials.add(1, { [semconv.ATTR_GEN_AI_REQUEST_MODEL]: model });
  }

  startIdempotency(): Span {
    return this.tracer.startSpan(SpanNames.IDEMPOTENCY, { startTime: this.clock.now(), attributes: { ...COMMON_ATTRIBUTES } });
  }

  idempotencyOutcome(span: Span, outcome: IdempotencyOutcome): void {
    span.setAttribute(AttributeNames.IDEMPOTENCY_OUTCOME, outcome);
    span.addEvent(EventNames.IDEMPOTENCY, { [AttributeNames.IDEMPOTENCY_OUTCOME]: outcome }, this.clock.now());
  }

  endSpan(span: Span): void {
    span.end(this.clock.now());
  }
}
