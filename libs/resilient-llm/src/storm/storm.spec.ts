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

  it('toJSON and initialState round-trip the tokens through JSON', () => {
    const settings = { mode: 'throttle' as const, maxTokens: 10, tokenRatio: 0.1, ratio: 0 };
    const budget = new RetryBudget(settings);
    for (let failure = 0; failure < 4; failure++) budget.onFailure();
    const stored = JSON.parse(JSON.stringify(budget)) as { tokens: number };
    expect(stored).toEqual({ tokens: 6 });
    const restarted = new RetryBudget(settings, stored);
    expect(restarted.available).toBe(6);
    expect(restarted.tryRetry()).toBe(true); // 6 > 5
    restarted.onFailure();
    expect(restarted.tryRetry()).toBe(false); // 5 is not above half
  });

  it('adopt takes another replica\'s count, held within [0, maxTokens]', () => {
    const budget = new RetryBudget({ mode: 'ratio', maxTokens: 5, tokenRatio: 0, ratio: 0.1 });
    budget.adopt(0.5);
    expect(budget.tryRetry()).toBe(false);
    budget.adopt(2);
    expect(budget.tryRetry()).toBe(true);
    expect(budget.available).toBe(1);
    budget.adopt(99);
    expect(budget.available).toBe(5);
    budget.adopt(-3);
    expect(budget.available).toBe(0);
    budget.adopt(Number.NaN);
    expect(budget.available).toBe(0);
  });
});
