import { Test } from '@nestjs/testing';
import { INVALID_SPAN_CONTEXT, type Span, trace } from '@opentelemetry/api';
import { BackoffPolicy } from '../backoff/backoff.policy.js';
import { BudgetGuard } from '../budget/budget.guard.js';
import { ShuttingDownException } from '../errors/shutting-down.exception.js';
import { resolveModuleOptions } from '../module/resilient-llm-options.validation.js';
import { settingsProviders } from '../module/settings.providers.js';
import { LlmPricing } from '../pricing/llm-pricing.service.js';
import { RESILIENT_LLM_CLOCK, RESILIENT_LLM_OPTIONS, RESILIENT_LLM_RANDOM, RESILIENT_LLM_SLEEPER } from '../resilient-llm.constants.js';
import { StormControl } from '../storm/storm-control.js';
import { ManualClock, sequenceRandom } from '../testing/index.js';
import { type CallEndEvent, type GuardedCallEvents, RESILIENT_LLM_CALL_EVENTS } from './guarded-call-events.js';
import { currentGuardedCall, type GuardedCallView } from './guarded-call.context.js';
import { GuardedCallRunner } from './guarded-call.runner.js';
import { HandlerRetries } from './handler-retries.js';

/** A `GuardedCallEvents` that keeps what the runner told it: one span per call, and how each call ended. */
class RecordingCallEvents implements GuardedCallEvents {
  readonly started: Array<{ span: Span; model: string; scopeKey?: string }> = [];
  readonly ended: Array<{ span: Span; result: CallEndEvent }> = [];
  within<T>(_span: Span, fn: () => T): T {
    return fn();
  }
  startCall(attributes: { model: string; scopeKey?: string }): Span {
    const span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    this.started.push({ span, ...attributes });
    return span;
  }
  startAttempt(): Span {
    return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
  }
  heldBeforeAttempt(): void {}
  completion(): void {}
  endAttempt(): void {}
  backoff(): void {}
  retryBudgetDenied(): void {}
  fallback(): void {}
  budgetReserved(): void {}
  budgetSettled(): void {}
  budgetRejected(): void {}
  strict(): void {}
  endCall(span: Span, result: CallEndEvent): void {
    this.ended.push({ span, result });
  }
}

/** An operation that runs until its call is aborted, and fails with the abort's reason. */
const untilAborted = (call: GuardedCallView) =>
  new Promise<never>((_resolve, reject) => call.signal.addEventListener('abort', () => reject(call.signal.reason as Error), { once: true }));

describe('GuardedCallRunner', () => {
  let runner: GuardedCallRunner;
  let pricing: LlmPricing;
  let events: RecordingCallEvents;
  let clock: ManualClock;

  beforeEach(async () => {
    events = new RecordingCallEvents();
    clock = new ManualClock();
    // No budget limits, so no budget store: the call is admitted without one and settles to no ledger.
    const options = resolveModuleOptions({ defaultModel: 'gpt-4o-mini', backoff: { deadlineMs: 30_000 } });
    const moduleRef = await Test.createTestingModule({
      providers: [
        GuardedCallRunner,
        BudgetGuard,
        LlmPricing,
        StormControl,
        HandlerRetries,
        BackoffPolicy,
        { provide: RESILIENT_LLM_OPTIONS, useValue: options },
        ...settingsProviders,
        { provide: RESILIENT_LLM_CALL_EVENTS, useValue: events },
        { provide: RESILIENT_LLM_CLOCK, useValue: clock },
        { provide: RESILIENT_LLM_SLEEPER, useValue: clock },
        { provide: RESILIENT_LLM_RANDOM, useValue: sequenceRandom([0.5]) },
      ],
    }).compile();
    runner = moduleRef.get(GuardedCallRunner);
    pricing = moduleRef.get(LlmPricing);
    expect(moduleRef.get(BudgetGuard).enabled).toBe(false);
  });

  it('runs the operation once inside a call it can see, then ends the call\'s span as a success', async () => {
    let runs = 0;
    const result = await runner.run({ scopeKey: 'acme' }, async (call) => {
      runs++;
      expect(currentGuardedCall()).toBe(call);
      expect(call.model).toBe('gpt-4o-mini');
      return 'answer';
    });

    expect(result).toBe('answer');
    expect(runs).toBe(1);
    expect(currentGuardedCall()).toBeUndefined();
    expect(events.started).toHaveLength(1);
    expect(events.started[0]).toMatchObject({ model: 'gpt-4o-mini', scopeKey: 'acme' });
    expect(events.ended).toHaveLength(1);
    expect(events.ended[0].span).toBe(events.started[0].span);
    expect(events.ended[0].result).toMatchObject({ outcome: 'success', attempts: 0, costMicro: 0, wasteMicro: 0, model: 'gpt-4o-mini' });
  });

  it('settles at the usage the operation recorded', async () => {
    const usage = { inputTokens: 1_000, outputTokens: 500 };
    await runner.run({ model: 'gpt-4o' }, async (call) => call.recordUsage('gpt-4o', usage));

    const costMicro = pricing.costMicroUsd('gpt-4o', usage);
    expect(costMicro).toBeGreaterThan(0);
    expect(events.ended[0].result).toMatchObject({ outcome: 'success', costMicro, model: 'gpt-4o' });
  });

  it('joins a call started inside another: one span, one settlement, the outer call\'s view', async () => {
    await runner.run({ model: 'gpt-4o' }, async (outer) => {
      const inner = await runner.run({ model: 'gpt-4o-mini' }, async (call) => call);
      expect(inner).toBe(outer);
    });

    expect(events.started).toHaveLength(1);
    expect(events.ended).toHaveLength(1);
    expect(events.ended[0].result.model).toBe('gpt-4o');
  });

  it('gives a call started after its outer call ended (fire and forget) a call of its own', async () => {
    let later: Promise<GuardedCallView> | undefined;
    const outer = await runner.run({}, async (call) => {
      later = new Promise((resolve) => setImmediate(resolve)).then(() => runner.run({}, async (own) => own));
      return call;
    });
    const own = await later!;

    expect(own).not.toBe(outer);
    expect(events.started).toHaveLength(2);
    expect(events.ended).toHaveLength(2);
  });

  it('sets the deadline from the module\'s backoff, or from the call\'s own', async () => {
    const start = clock.now();
    const moduleDeadline = await runner.run({}, async (call) => call.deadlineAtMs);
    const ownDeadline = await runner.run({ backoff: { deadlineMs: 5_000 } }, async (call) => call.deadlineAtMs);

    expect(moduleDeadline).toBe(start + 30_000);
    expect(ownDeadline).toBe(start + 5_000);
  });

  it('aborts the call when the caller\'s signal aborts, and ends it as aborted', async () => {
    const caller = new AbortController();
    const gone = new Error('client went away');
    const running = runner.run({ signal: caller.signal }, untilAborted);
    caller.abort(gone);

    await expect(running).rejects.toBe(gone);
    expect(events.ended[0].result).toMatchObject({ outcome: 'aborted', error: gone });
  });

  it('starts a call aborted when the caller\'s signal already is', async () => {
    const caller = new AbortController();
    caller.abort(new Error('already gone'));
    const aborted = await runner.run({ signal: caller.signal }, async (call) => call.signal.aborted);

    expect(aborted).toBe(true);
  });

  it('ends a failed call with its error', async () => {
    const failure = new Error('the handler threw');
    await expect(runner.run({}, async () => Promise.reject(failure))).rejects.toBe(failure);

    expect(events.ended[0].result).toMatchObject({ outcome: 'failure', error: failure });
  });

  it('on shutdown aborts calls in flight and refuses new ones before opening them', async () => {
    const running = runner.run({}, untilAborted);
    runner.beforeApplicationShutdown();

    await expect(running).rejects.toBeInstanceOf(ShuttingDownException);
    await expect(runner.run({}, async () => 'never')).rejects.toBeInstanceOf(ShuttingDownException);
    expect(events.started).toHaveLength(1);
    expect(events.ended[0].result.outcome).toBe('aborted');
  });
});
