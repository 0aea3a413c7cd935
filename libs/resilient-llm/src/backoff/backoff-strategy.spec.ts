import fc from 'fast-check';
import { BACKOFF_STRATEGIES, computeDelay, exponentialCeiling } from './backoff-strategy.js';

const settings = fc.record({
  retryIndex: fc.integer({ min: 0, max: 60 }),
  baseMs: fc.integer({ min: 0, max: 10_000 }),
  extraCapMs: fc.integer({ min: 0, max: 120_000 }),
  previousFactor: fc.double({ min: 0, max: 50, noNaN: true }),
  random: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
});

describe('computeDelay', () => {
  it.each(BACKOFF_STRATEGIES)('%s never exceeds the cap and is never negative', (strategy) => {
    fc.assert(
      fc.property(settings, ({ retryIndex, baseMs, extraCapMs, previousFactor, random }) => {
        const capMs = baseMs + extraCapMs;
        const delay = computeDelay(strategy, { retryIndex, baseMs, capMs, previousDelayMs: baseMs * previousFactor, random: () => random });
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(capMs);
      }),
    );
  });

  it('keeps each strategy inside its own formula bounds', () => {
    fc.assert(
      fc.property(settings, ({ retryIndex, baseMs, extraCapMs, previousFactor, random }) => {
        const capMs = baseMs + extraCapMs;
        const previousDelayMs = baseMs * previousFactor;
        const input = { retryIndex, baseMs, capMs, previousDelayMs, random: () => random };
        const t = exponentialCeiling(retryIndex, baseMs, capMs);
        expect(computeDelay('exponential', input)).toBe(t);
        const full = computeDelay('full', input);
        expect(full).toBeGreaterThanOrEqual(0);
        expect(full).toBeLessThanOrEqual(t);
        const equal = computeDelay('equal', input);
        expect(equal).toBeGreaterThanOrEqual(t / 2);
        expect(equal).toBeLessThanOrEqual(t);
        const bounded = computeDelay('bounded', input);
        expect(bounded).toBeGreaterThanOrEqual(Math.min(capMs, t * 0.5));
        expect(bounded).toBeLessThanOrEqual(Math.min(capMs, t * 1.5));
        const decorrelated = computeDelay('decorrelated', input);
        expect(decorrelated).toBeGreaterThanOrEqual(Math.min(capMs, baseMs));
        expect(decorrelated).toBeLessThanOrEqual(Math.min(capMs, Math.max(baseMs, previousDelayMs * 3)));
      }),
    );
  });

  it('doubles the exponential delay per retry until the cap', () => {
    const delays = [0, 1, 2, 3, 4, 5].map((retryIndex) =>
      computeDelay('exponential', { retryIndex, baseMs: 100, capMs: 1_000, previousDelayMs: 100, random: () => 0.5 }),
    );
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('spreads full jitter over [0, t) with the random source', () => {
    const input = { retryIndex: 2, baseMs: 100, capMs: 10_000, previousDelayMs: 100 };
    expect(computeDelay('full', { ...input, random: () => 0 })).toBe(0);
    expect(computeDelay('full', { ...input, random: () => 0.25 })).toBe(100);
    expect(computeDelay('equal', { ...input, random: () => 0.5 })).toBe(300);
    expect(computeDelay('bounded', { ...input, random: () => 0 })).toBe(200);
    expect(computeDelay('decorrelated', { ...input, previousDelayMs: 1_000, random: () => 0.5 })).toBe(1_550);
  });
});
