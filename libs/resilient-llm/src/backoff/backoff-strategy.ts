import type { RandomSource } from '../time/clock.interface.js';

export const BACKOFF_STRATEGIES = ['exponential', 'full', 'equal', 'decorrelated', 'bounded'] as const;
export type BackoffStrategy = (typeof BACKOFF_STRATEGIES)[number];

export interface DelayInput {
  /** 0 for the delay before the first retry, 1 before the second, ... */
  retryIndex: number;
  baseMs: number;
  capMs: number;
  /** The delay slept before the previous retry (decorrelated jitter grows from it); `baseMs` before the first. */
  previousDelayMs: number;
  random: RandomSource;
}

const between = (random: RandomSource, low: number, high: number) => low + random() * (high - low);

/** min(cap, base * 2^n): the ceiling every exponential strategy jitters under. */
export function exponentialCeiling(retryIndex: number, baseMs: number, capMs: number): number {
  // 2^n overflows to Infinity long before it matters; min() keeps that harmless.
  return Math.min(capMs, baseMs * 2 ** retryIndex);
}

/**
 * The delay before retry `retryIndex`, after AWS's "Exponential Backoff and Jitter":
 * exponential = t; full = rand(0, t); equal = t/2 + rand(0, t/2);
 * decorrelated = min(cap, rand(base, previous * 3)); bounded = t * rand(0.5, 1.5), at most cap.
 */
export function computeDelay(strategy: BackoffStrategy, input: DelayInput): number {
  const { retryIndex, baseMs, capMs, previousDelayMs, random } = input;
  const ceiling = exponentialCeiling(retryIndex, baseMs, capMs);
  switch (strategy) {
    case 'exponential':
      return ceiling;
    case 'full':
      return between(random, 0, ceiling);
    case 'equal':
      return ceiling / 2 + between(random, 0, ceiling / 2);
    case 'decorrelated':
      return Math.min(capMs, between(random, baseMs, Math.max(baseMs, previousDelayMs * 3)));
    case 'bounded':
      return Math.min(capMs, ceiling * between(random, 0.5, 1.5));
  }
}
