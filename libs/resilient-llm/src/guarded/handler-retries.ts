import { Inject, Injectable } from '@nestjs/common';
import type { Span } from '@opentelemetry/api';
import { BackoffPolicy, type RetryDecision } from '../backoff/backoff.policy.js';
import { InjectClock, InjectSleeper } from '../resilient-llm.constants.js';
import type { RetryAllowance } from '../storm/retry-budget.js';
import { StormControl } from '../storm/storm-control.js';
import { type GuardedCallEvents, RESILIENT_LLM_CALL_EVENTS } from './guarded-call-events.js';
import type { Clock, Sleeper } from '../time/clock.interface.js';
import { callerFacingError, failureFor } from './call-failure.js';
import type { GuardedCall, GuardedCallView } from './guarded-call.context.js';
import { decideRetry } from './retry-decision.js';

type Retry = Extract<RetryDecision, { retry: true }>;

/** A run that threw: its span, when it started, and the delay slept before it. */
interface FailedRun {
  span: Span;
  startedAt: number;
  previousDelayMs: number | undefined;
}

/**
 * `@Guarded({ retry: 'handler' })`: the whole handler runs again after a retryable failure,
 * for pure handlers that reach an LLM through something the guarded transport cannot see.
 * Requests through the transport make one attempt each inside it. Each run is paid for.
 */
@Injectable()
export class HandlerRetries {
  constructor(
    private readonly policy: BackoffPolicy,
    private readonly storm: StormControl,
    @Inject(RESILIENT_LLM_CALL_EVENTS) private readonly events: GuardedCallEvents,
    @InjectClock() private readonly clock: Clock,
    @InjectSleeper() private readonly sleeper: Sleeper,
  ) {}

  async run<T>(call: GuardedCall, operation: (call: GuardedCallView) => Promise<T>): Promise<T> {
    const model = call.settings.model;
    const retryBudget = this.storm.retryBudget(model);
    retryBudget?.onFirstAttempt();
    let previousDelayMs: number | undefined;
    for (;;) {
      const startedAt = this.clock.now();
      const span = this.events.startAttempt(call.span, call.run, model);
      call.attemptSpan = span;
      try {
        const result = await this.events.within(span, () => operation(call.view));
        call.attempts.push({ attempt: call.run, request: 0, outcome: 'success', durationMs: this.clock.now() - startedAt });
        this.events.endAttempt(span, model);
        retryBudget?.onSuccess();
        return result;
      } catch (thrown) {
        const retry = this.retryOrGiveUp(call, thrown, { span, startedAt, previousDelayMs }, retryBudget);
        await this.prepareNextRun(call, retry);
        previousDelayMs = retry.delayMs;
      }
    }
  }

  /** Records the failed run and decides: another run after a delay, or give up (thrown as the caller should see it). */
  private retryOrGiveUp(call: GuardedCall, thrown: unknown, run: FailedRun, retryBudget: RetryAllowance | undefined): Retry {
    const model = call.settings.model;
    // The transport's own refusals (budget, circuit) reach here inside the SDK's error: they are answers.
    const error = callerFacingError(thrown, undefined);
    const state = { attemptsMade: call.run, startedAtMs: call.startedAtMs, previousDelayMs: run.previousDelayMs };
    const { decision, budgetDenied } = decideRetry(this.policy, retryBudget, state, error, call.backoff);
    if (budgetDenied) this.events.retryBudgetDenied(call.span, model, retryBudget!.available);
    const { kind, status } = decision.classification;
    call.attempts.push({ attempt: call.run, request: 0, outcome: 'failure', durationMs: this.clock.now() - run.startedAt, failureKind: kind, upstreamStatus: status });
    this.events.endAttempt(run.span, model, { classification: decision.classification, retrying: decision.retry });
    if (!decision.retry) {
      call.giveUpReason = decision.reason;
      throw failureFor(decision, call.run, error) ?? error;
    }
    return decision;
  }

  private async prepareNextRun(call: GuardedCall, retry: Retry): Promise<void> {
    // Each run is paid for: hold what was spent so far plus one more run, or stop here.
    (await call.budget.ensureHeadroom(() => call.spentMicro, call.budget.estimateMicro, call.attempts.length))();
    const sleptFrom = this.clock.now();
    try {
      await this.sleeper.sleep(retry.delayMs, call.signal);
    } finally {
      this.events.backoff(call.span, { startedAt: sleptFrom, delayMs: retry.delayMs, source: retry.source, strategy: call.backoff.strategy });
    }
    call.nextRun();
  }
}
