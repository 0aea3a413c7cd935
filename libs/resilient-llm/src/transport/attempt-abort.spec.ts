import { INVALID_SPAN_CONTEXT, trace } from '@opentelemetry/api';
import type { CallBudget } from '../budget/call-budget.js';
import { GuardedCall, type GuardedCallSettings } from '../guarded/guarded-call.context.js';
import { AttemptAbort } from './attempt-abort.js';

function call(): GuardedCall {
  const settings = { model: 'gpt-4o-mini', retry: 'request' } as GuardedCallSettings;
  return new GuardedCall(settings, 0, trace.wrapSpanContext(INVALID_SPAN_CONTEXT), {} as CallBudget, () => 0, async () => undefined);
}

describe('AttemptAbort', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("aborts with the call's reason, as the caller's abort, not a timeout", () => {
    const guarded = call();
    const abort = new AttemptAbort(guarded, undefined, 1_000);
    const reason = new Error('the client disconnected');
    guarded.abort(reason);
    expect(abort.signal.aborted).toBe(true);
    expect(abort.signal.reason).toBe(reason);
    expect(abort.byCaller).toBe(true);
    expect(abort.timedOut).toBe(false);
  });

  it("aborts with the caller's signal, and at once when that signal was already aborted", () => {
    const caller = new AbortController();
    const abort = new AttemptAbort(call(), caller.signal, 1_000);
    caller.abort('gone');
    expect(abort.signal.reason).toBe('gone');
    expect(abort.byCaller).toBe(true);
    expect(new AttemptAbort(call(), caller.signal, 1_000).signal.aborted).toBe(true);
  });

  it('times out on its own timer, which stopTimer stops', () => {
    const timed = new AttemptAbort(call(), undefined, 500);
    const stopped = new AttemptAbort(call(), undefined, 500);
    stopped.stopTimer();
    vi.advanceTimersByTime(499);
    expect(timed.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(timed.signal.aborted).toBe(true);
    expect(timed.timedOut).toBe(true);
    expect(timed.byCaller).toBe(false);
    expect(stopped.signal.aborted).toBe(false);
  });

  it('once ended, neither the call nor the caller aborts it', () => {
    const guarded = call();
    const caller = new AbortController();
    const abort = new AttemptAbort(guarded, caller.signal, 500);
    abort.end();
    guarded.abort(new Error('shutdown'));
    caller.abort();
    vi.advanceTimersByTime(1_000);
    expect(abort.signal.aborted).toBe(false);
  });
});
