import { checkDeadlineWithinLease, checkEachBound, checkLease, checkNumber, describeRange, optionalChoice, optionalNumber } from './option-checks.js';
import { isResilientLlmConfigurationError } from './resilient-llm-configuration.error.js';

const messageOf = (check: () => unknown): string => {
  try {
    check();
  } catch (error) {
    if (isResilientLlmConfigurationError(error)) return error.message;
    throw error;
  }
  throw new Error('the check passed');
};

describe('option checks', () => {
  it.each([
    [{ min: 1 }, 'a number >= 1'],
    [{ min: 0, exclusiveMin: true, max: 1 }, 'a number > 0 and <= 1'],
    [{ integer: true, min: 0, max: 10 }, 'a whole number >= 0 and <= 10'],
    [{ integer: true, unit: 'tokens', min: 1, max: 1_000_000, fromTo: true }, 'a whole number of tokens from 1 to 1000000'],
    [{ unit: 'milliseconds', min: 10, max: 60_000 }, 'a number of milliseconds >= 10 and <= 60000'],
    [{ unit: 'milliseconds', min: 0, max: 2_000, fromTo: true, maxLabel: 'storage.maxWaitMs (2000)' }, 'a number of milliseconds from 0 to storage.maxWaitMs (2000)'],
    [{ min: 0, exclusiveMin: true, max: 1, exclusiveMax: true }, 'a number > 0 and < 1'],
  ])('describes %o as "%s"', (range, description) => {
    expect(describeRange(range)).toBe(description);
  });

  it('phrases every error as option, accepted range, value got', () => {
    expect(messageOf(() => checkNumber('a.b', 0, { min: 1 }))).toBe('resilient-llm: invalid option "a.b": must be a number >= 1, got 0');
    expect(messageOf(() => optionalChoice('a.mode', 'x', ['wait', 'fail'], 'wait'))).toBe('resilient-llm: invalid option "a.mode": must be "wait" or "fail", got x');
    expect(messageOf(() => checkEachBound('a.n', 2.5, { min: 1, integer: true }))).toBe('resilient-llm: invalid option "a.n": must be a whole number, got 2.5');
  });

  it('takes the fallback only for a value left out', () => {
    expect(optionalNumber('a', undefined, 7, { min: 1 })).toBe(7);
    expect(() => optionalNumber('a', null, 7, { min: 1 })).toThrow(/got null/);
  });

  it('holds a lease to the longest call and a narrower deadline to the lease', () => {
    expect(checkLease('budget.leaseMs', 120_000, 120_000, 'reservation')).toBe(120_000);
    expect(messageOf(() => checkLease('budget.leaseMs', 119_999, 120_000, 'reservation'))).toMatch(/at least backoff\.deadlineMs \+ client\.attemptTimeoutMs \(120000 ms\).*got 119999/);
    expect(() => checkDeadlineWithinLease('x: backoff.deadlineMs', 60_000, 60_000, { option: 'budget.leaseMs', ms: 120_000 })).not.toThrow();
    expect(messageOf(() => checkDeadlineWithinLease('x: backoff.deadlineMs', 60_001, 60_000, { option: 'budget.leaseMs', ms: 120_000 }))).toBe(
      'resilient-llm: invalid option "x: backoff.deadlineMs": must be at most budget.leaseMs - client.attemptTimeoutMs (60000 ms), or a call could outlive its lease, got 60001',
    );
  });
});
