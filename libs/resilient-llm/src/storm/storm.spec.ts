import { CircuitBreaker, type CircuitBreakerSettings } from './circuit-breaker.js';
import { RetryBudget } from './retry-budget.js';

describe('RetryBudget', () => {
  it('throttle (gRPC A6): failures drain it, retries stop at half, successes refill it by the ratio', () => {
    const budget = new RetryBudget({ mode: 'throttle', maxTokens: 10, tokenRatio: 0.1, ratio: 0 });
    const allowed: boolean[] = [];
    for (let failure = 0; failure < 8; failure++) {
      budget.onFailure();
      allowed.push(budget.tryRetry());
    }
    expect(allowed).toEqual([true, true, true, true, false, false, false, false]);
    for (let success = 0; success < 29; success++) budget.onSuccess();
    expect(budget.tryRetry()).toBe(false); // 2 + 2.9 tokens: not above half yet
    budget.onSuccess();
    budget.onSuccess();
    expect(budget.tryRetry()).toBe(true);
  });

  it('ratio: retries stay within the share of first attempts', () => {
    const budget = new RetryBudget({ mode: 'ratio', maxTokens: 5, tokenRatio: 0, ratio: 0.1 });
    for (let spent = 0; spent < 5; spent++) expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
    let retries = 0;
    for (let request = 0; request < 1_000; request++) {
      budget.onFirstAttempt();
      if (budget.tryRetry()) retries++;
    }
    expect(retries).toBeGreaterThanOrEqual(99);
    expect(retries).toBeLessThanOrEqual(101);
  });
});

const settings: CircuitBreakerSettings = { mode: 'consecutive', consecutiveFailures: 3, failureRate: 0.5, windowMs: 10_000, minimumCalls: 4, openMs: 1_000, halfOpenProbes: 2 };

describe('CircuitBreaker', () => {
  it('opens after consecutive failures, fails fast, then lets the probe count through', () => {
    const transitions: string[] = [];
    const breaker = new CircuitBreaker(settings, (from, to) => transitions.push(`${from}>${to}`));
    for (let failure = 0; failure < 3; failure++) {
      expect(breaker.admit(0)).toEqual({ allowed: true, probe: false });
      breaker.onFailure(false, 0);
    }
    expect(breaker.state).toBe('open');
    expect(breaker.admit(400)).toEqual({ allowed: false, retryAfterMs: 600 });
    expect(breaker.admit(1_000)).toEqual({ allowed: true, probe: true });
    expect(breaker.admit(1_000)).toEqual({ allowed: true, probe: true });
    expect(breaker.admit(1_000).allowed).toBe(false);
    breaker.onFailure(true, 1_100);
    expect(breaker.state).toBe('open');
    expect(breaker.admit(2_100)).toEqual({ allowed: true, probe: true });
    breaker.onSuccess(true, 2_100);
    expect(breaker.state).toBe('closed');
    expect(transitions).toEqual(['closed>open', 'open>half_open', 'half_open>open', 'open>half_open', 'half_open>closed']);
  });

  it('hands a probe slot back when the probe says nothing about the upstream (the caller aborted)', () => {
    const breaker = new CircuitBreaker({ ...settings, halfOpenProbes: 1 });
    for (let failure = 0; failure < 3; failure++) breaker.onFailure(false, 0);
    expect(breaker.admit(1_000)).toEqual({ allowed: true, probe: true });
    expect(breaker.admit(1_000).allowed).toBe(false);
    breaker.onNeutral(true);
    expect(breaker.state).toBe('half_open');
    expect(breaker.admit(1_000)).toEqual({ allowed: true, probe: true });
  });

  it('a success resets the consecutive count', () => {
    const breaker = new CircuitBreaker(settings);
    breaker.onFailure(false, 0);
    breaker.onFailure(false, 0);
    breaker.onSuccess(false, 0);
    breaker.onFailure(false, 0);
    breaker.onFailure(false, 0);
    expect(breaker.state).toBe('closed');
  });

  it('rate mode opens when the failure share of the time window reaches the rate, after the minimum calls', () => {
    const breaker = new CircuitBreaker({ ...settings, mode: 'rate' });
    breaker.onFailure(false, 0);
    breaker.onSuccess(false, 0);
    breaker.onFailure(false, 0);
    expect(breaker.state).toBe('closed'); // 3 calls < minimumCalls
    breaker.onSuccess(false, 0);
    expect(breaker.state).toBe('closed'); // 2 of 4 = 50%, checked on failures only
    breaker.onFailure(false, 0);
    expect(breaker.state).toBe('open'); // 3 of 5
  });

  it('rate mode forgets outcomes older than the window, and concurrent failures landing together do not trip it', () => {
    const breaker = new CircuitBreaker({ ...settings, mode: 'rate', minimumCalls: 20 });
    for (let call = 0; call < 950; call++) breaker.onSuccess(false, 100);
    for (let call = 0; call < 50; call++) breaker.onFailure(false, 2_000); // 5% timing out at once
    expect(breaker.state).toBe('closed');
    for (let call = 0; call < 20; call++) breaker.onFailure(false, 12_001); // the successes have left the window
    expect(breaker.state).toBe('open');
  });
});
