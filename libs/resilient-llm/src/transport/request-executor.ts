import { Inject, Injectable } from '@nestjs/common';
import type { Span } from '@opentelemetry/api';
import { BackoffPolicy, type RetryDecision } from '../backoff/backoff.policy.js';
import { mayBeBilledUnseen } from '../budget/unseen-billing.js';
import { type FailureClassification, classifyFailure } from '../backoff/error-classifier.js';
import { LlmCallFailedException } from '../guarded/llm-call-failed.exception.js';
import { InjectClock, InjectTransportSettings, InjectSleeper } from '../resilient-llm.constants.js';
import { EventLoopStallMonitor, type StallWatch } from '../storm/event-loop-stall.js';
import { StormControl, type UpstreamPass } from '../storm/storm-control.js';
import { type GuardedCallEvents, RESILIENT_LLM_CALL_EVENTS } from '../guarded/guarded-call-events.js';
import type { Clock, Sleeper } from '../time/clock.interface.js';
import { type AcceptedAttempt, AnswerReader } from './answer-reader.js';
import type { UpstreamRequest } from './upstream-request.js';
import type { GuardedCall } from '../guarded/guarded-call.context.js';
import { attemptError, refusedAnswer } from './attempt-error.js';
import { AttemptAbort } from './attempt-abort.js';
import { decideRetry } from '../guarded/retry-decision.js';
import { failureFor } from '../guarded/call-failure.js';
import type { TransportSettings } from './transport-settings.interface.js';

interface AttemptOutcome {
  /** The upstream's answer; a failed one is kept whole, to hand back to the SDK on give-up. */
  response?: Response;
  /** Why the attempt failed; none when it succeeded. */
  error?: unknown;
  classification?: FailureClassification;
  span?: Span;
  model: string;
  startedAt: number;
}

/** An attempt past admission: what it holds until it ends, and where its outcome goes. */
interface AdmittedAttempt extends Pick<AcceptedAttempt, 'model' | 'span' | 'record' | 'done'> {
  startedAt: number;
  worstMicro: number;
  stall: StallWatch;
  /** Ends the attempt on the call's abort, the caller's signal or its timeout. */
  abort: AttemptAbort;
  pass: UpstreamPass;
}

/**
 * THE retry loop, for one upstream request: budget headroom for its worst case, a concurrency
 * slot and circuit admission, the attempt under its own timeout (never past the call's
 * deadline), classification of the answer, `Retry-After`, the retry budget, the backoff sleep.
 * With `retry: 'handler'` it makes one attempt and leaves the retrying to the handler's loop.
 */
@Injectable()
export class RequestExecutor {
  constructor(
    private readonly policy: BackoffPolicy,
    private readonly storm: StormControl,
    @Inject(RESILIENT_LLM_CALL_EVENTS) private readonly events: GuardedCallEvents,
    private readonly answers: AnswerReader,
    private readonly stalls: EventLoopStallMonitor,
    @InjectTransportSettings() private readonly options: TransportSettings,
    @InjectClock() private readonly clock: Clock,
    @InjectSleeper() private readonly sleeper: Sleeper,
  ) {}

  async execute(call: GuardedCall, request: UpstreamRequest): Promise<Response> {
    const handlerRetries = call.settings.retry === 'handler';
    const retryBudget = handlerRetries ? undefined : this.storm.retryBudget(request.model ?? call.settings.model);
    // The caller's own signal (the SDK's) cancels this request's sleeps and queue waits too;
    // made only when something waits (most requests never do).
    let waitSignal: AbortSignal | undefined;
    const signal = () => (waitSignal ??= request.callerSignal ? AbortSignal.any([call.signal, request.callerSignal]) : call.signal);
    retryBudget?.onFirstAttempt();
    let previousDelayMs: number | undefined;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(call, request, attempt, signal);
      if (outcome.error === undefined) {
        retryBudget?.onSuccess();
        return outcome.response!;
      }
      if (handlerRetries) return this.handBack(outcome);
      let { decision, budgetDenied } = decideRetry(this.policy, retryBudget, { attemptsMade: attempt, startedAtMs: call.startedAtMs, previousDelayMs }, outcome.error, call.backoff, outcome.classification?.localStallMs);
      if (budgetDenied) this.events.retryBudgetDenied(call.span, outcome.model, retryBudget!.available);
      if (decision.retry && !request.resendable) decision = notResendable(decision.classification);
      this.events.endAttempt(outcome.span!, outcome.model, { classification: decision.classification, retrying: decision.retry });
      if (!decision.retry) {
        call.giveUpReason = decision.reason;
        call.failure = failureFor(decision, call.attempts.length, outcome.error);
        return this.handBack(outcome);
      }
      previousDelayMs = decision.delayMs;
      const startedAt = this.clock.now();
      try {
        await this.sleeper.sleep(decision.delayMs, signal());
      } finally {
        this.events.backoff(call.span, { startedAt, delayMs: decision.delayMs, source: decision.source, strategy: call.backoff.strategy });
      }
    }
  }

  /**
   * Budget headroom for the request's worst case, then storm control's pass (circuit, pacing,
   * a concurrency slot); what was taken is given back if either refuses or the deadline passes.
   */
  private async admit(call: GuardedCall, request: UpstreamRequest, model: string, worstMicro: number, requestSignal: () => AbortSignal) {
    const releaseHold = call.hold();
    let freeHeadroom: () => void = () => undefined;
    let pass: UpstreamPass | undefined;
    const release = () => {
      pass?.release();
      freeHeadroom();
      releaseHold();
    };
    try {
      if (call.budget.enabled) freeHeadroom = await call.budget.ensureHeadroom(() => call.spentMicro, worstMicro, call.attempts.length);
      pass = this.storm.passNow(model, call.strict) ?? (await this.storm.enter(model, call.strict, requestSignal, call.deadlineAtMs - this.clock.now(), () => request.rateLimitTokens(model)));
      if (this.clock.now() >= call.deadlineAtMs) throw this.deadlinePassed(call);
    } catch (error) {
      release();
      throw error;
    }
    return { pass, release };
  }

  /** What a failed attempt was, told to storm control; charged as waste when the provider may have billed it unseen. */
  private classifyFailed(call: GuardedCall, failed: AttemptOutcome, admitted: UpstreamPass, stalledMs: number, worstMicro: number): FailureClassification {
    const classification = classifyFailure(failed.error);
    // A 429 that says the quota is gone (insufficient_quota) is not a rate to pace to.
    if (failed.response) admitted.observe(failed.response.headers, classification.kind === 'rate_limited');
    if (stalledMs >= this.options.stormControl.localStallMs) classification.localStallMs = stalledMs;
    admitted.report(classification);
    // Sent with no answer to say what it used (timed out, aborted, cut off): the provider may have billed it all. Charged, as waste.
    if (call.budget.reservation && mayBeBilledUnseen(failed, classification, this.options.budget)) call.budget.chargedMicro += worstMicro;
    return classification;
  }

  /**
   * One try. Never sent once the call's deadline has passed (checked again after a queue wait).
   * From its headroom to its end the attempt holds the call open, so the call cannot settle
   * while a request it made may still be billed.
   */
  private async attempt(call: GuardedCall, request: UpstreamRequest, attempt: number, requestSignal: () => AbortSignal): Promise<AttemptOutcome> {
    if (this.clock.now() >= call.deadlineAtMs) throw this.deadlinePassed(call);
    const model = this.modelFor(call, request);
    const worstMicro = request.worstCaseMicro(model, call.budget.estimateMicro);
    const admission = await this.admit(call, request, model, worstMicro, requestSignal);
    const stall = this.stalls.watch();
    const span = call.settings.retry === 'handler' ? call.attemptSpan : this.events.startAttempt(call.span, attempt, model, request.operation);
    if (span) this.events.heldBeforeAttempt(span, admission.pass);
    const startedAt = this.clock.now();
    const timeoutMs = Math.max(1, Math.min(request.attemptTimeoutMs ?? this.options.client.attemptTimeoutMs, call.deadlineAtMs - startedAt));
    const abort = new AttemptAbort(call, request.callerSignal, timeoutMs);
    return await this.sendUnderTimeout(call, request, {
      model,
      span,
      startedAt,
      worstMicro,
      stall,
      abort,
      pass: admission.pass,
      record: this.recorder(call, request, attempt, startedAt),
      done: () => {
        abort.end();
        stall.stop();
        admission.release();
      },
    });
  }

  /** Sends an admitted attempt under its own timeout (never past the call's deadline) and tells what came of it. */
  private async sendUnderTimeout(call: GuardedCall, request: UpstreamRequest, admitted: AdmittedAttempt): Promise<AttemptOutcome> {
    const { model, span, startedAt, abort } = admitted;
    let failed: AttemptOutcome;
    try {
      const send = () => request.send(model, abort.signal);
      const sent = await (span ? this.events.within(span, send) : send());
      if (sent.ok) return { response: await this.accept(call, request, sent, admitted, abort.signal), model, startedAt };
      failed = { ...(await refusedAnswer(sent)), model, span, startedAt };
    } catch (thrown) {
      failed = { error: attemptError(thrown, { aborted: abort.byCaller, timedOut: abort.timedOut, timeoutMs: abort.timeoutMs }), model, span, startedAt };
    } finally {
      abort.stopTimer();
    }
    const stalledMs = abort.timedOut && !abort.byCaller ? admitted.stall.longestStallMs() : 0;
    const classification = this.classifyFailed(call, failed, admitted.pass, stalledMs, admitted.worstMicro);
    admitted.record(failed.error, classification);
    admitted.done();
    return { ...failed, classification };
  }

  /** A 2xx answer: its rate-limit headers go to storm control; its usage is recorded as it is read. */
  private accept(call: GuardedCall, request: UpstreamRequest, sent: Response, admitted: AdmittedAttempt, signal: AbortSignal): Promise<Response> {
    admitted.pass.observe(sent.headers, false);
    admitted.pass.report();
    const idleMs = request.attemptTimeoutMs ?? this.options.client.attemptTimeoutMs;
    const { model, span, record, done } = admitted;
    return this.answers.accept(call, request, sent, { model, span, signal, idleMs, ownsSpan: call.settings.retry !== 'handler', record, done });
  }

  /** Records an attempt on the call once its outcome is known. */
  private recorder(call: GuardedCall, request: UpstreamRequest, attempt: number, startedAt: number): AcceptedAttempt['record'] {
    return (error, classification) => {
      // With `retry: 'handler'` the handler's runs are the call's attempts.
      if (call.settings.retry === 'handler') return;
      call.attempts.push({
        attempt,
        request: request.number,
        outcome: error === undefined ? 'success' : 'failure',
        durationMs: this.clock.now() - startedAt,
        failureKind: classification?.kind,
        upstreamStatus: classification?.status,
      });
    };
  }

  /**
   * The model to send: a fallback while its circuit is open; in strict mode the cheaper model,
   * for generation only (an embedding model has no cheaper stand-in). Priced before it is sent.
   */
  private modelFor(call: GuardedCall, request: UpstreamRequest): string {
    const requested = request.model ?? call.settings.model;
    const wanted = call.strict && request.adapter?.operation === 'chat' ? this.storm.strictModel(requested) : requested;
    const model = this.storm.chooseModel(wanted);
    if (model !== wanted) this.events.fallback(call.span, wanted, model);
    return model;
  }

  private deadlinePassed(call: GuardedCall): LlmCallFailedException {
    const classification: FailureClassification = { kind: 'timeout', retryable: true, reason: "the call's deadline passed before the request was sent" };
    call.giveUpReason = 'deadline';
    call.failure = new LlmCallFailedException({ retry: false, reason: 'deadline', classification }, call.attempts.length, undefined);
    return call.failure as LlmCallFailedException;
  }

  /** What the SDK gets on give-up: the upstream's own answer (it raises its usual APIError), or the error. */
  private handBack(outcome: AttemptOutcome): Response {
    if (outcome.response) return outcome.response;
    throw outcome.error;
  }
}

function notResendable(classification: FailureClassification): Extract<RetryDecision, { retry: false }> {
  return {
    retry: false,
    reason: 'not_retryable',
    classification: { ...classification, retryable: false, reason: `${classification.reason}; a streamed request body cannot be sent again` },
  };
}

