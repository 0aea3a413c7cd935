import { resolveModuleOptions } from '../module/resilient-llm-options.validation.js';
import type { ResilientLlmModuleOptions } from '../module/resilient-llm-options.interface.js';

describe('storm control options', () => {
  it('turns the retry budget and the breaker on by default, with gRPC A6 and 5-failure settings', () => {
    expect(resolveModuleOptions({}).stormControl).toEqual({
      retryBudget: { mode: 'throttle', maxTokens: 100, tokenRatio: 0.1, ratio: 0.1, perModel: false },
      circuitBreaker: { mode: 'rate', consecutiveFailures: 5, failureRate: 0.5, windowMs: 10_000, minimumCalls: 20, openMs: 5_000, halfOpenProbes: 1 },
      fallbacks: {},
      localStallMs: 500,
      openCircuit: { whenOpen: 'wait', maxWaiting: 1_000, releaseRampMs: 1_000 },
      pacing: { windowMs: 60_000, share: 0.95, maxWaiting: 1_000 },
    });
    expect(resolveModuleOptions({ stormControl: { retryBudget: false, circuitBreaker: false, pacing: false, whenOpen: 'fail' } }).stormControl).toEqual({
      fallbacks: {},
      localStallMs: 500,
      openCircuit: { whenOpen: 'fail', maxWaiting: 1_000, releaseRampMs: 1_000 },
    });
  });

  it.each<[string, ResilientLlmModuleOptions['stormControl'], RegExp]>([
    ['a zero bucket', { retryBudget: { maxTokens: 0 } }, /"stormControl\.retryBudget\.maxTokens": must be a number >= 1, got 0/],
    ['a token ratio above 1', { retryBudget: { tokenRatio: 2 } }, /"stormControl\.retryBudget\.tokenRatio": must be a number > 0 and <= 1, got 2/],
    ['an unknown budget mode', { retryBudget: { mode: 'vibes' as never } }, /"stormControl\.retryBudget\.mode": must be "throttle" or "ratio"/],
    ['zero consecutive failures', { circuitBreaker: { consecutiveFailures: 0 } }, /"stormControl\.circuitBreaker\.consecutiveFailures": must be a whole number >= 1, got 0/],
    ['a failure rate of 0', { circuitBreaker: { failureRate: 0 } }, /"stormControl\.circuitBreaker\.failureRate": must be a number > 0 and <= 1/],
    ['a zero window', { circuitBreaker: { windowMs: 0 } }, /"stormControl\.circuitBreaker\.windowMs": must be a number >= 1, got 0/],
    ['zero minimum calls', { circuitBreaker: { minimumCalls: 0 } }, /"stormControl\.circuitBreaker\.minimumCalls": must be a whole number >= 1, got 0/],
    ['a negative open time', { circuitBreaker: { openMs: -1 } }, /"stormControl\.circuitBreaker\.openMs"/],
    ['no probes', { circuitBreaker: { halfOpenProbes: 0 } }, /"stormControl\.circuitBreaker\.halfOpenProbes"/],
    ['a fractional concurrency limit', { concurrency: { limit: 2.5 } }, /"stormControl\.concurrency\.limit": must be a whole number >= 1, got 2\.5/],
    ['a bad model limit', { concurrency: { perModel: { 'gpt-4.1': 0 } } }, /"stormControl\.concurrency\.perModel\.gpt-4\.1"/],
    ['a strict factor of 0', { concurrency: { limit: 4, strictFactor: 0 } }, /"stormControl\.concurrency\.strictFactor"/],
    ['an unpriced fallback', { fallbacks: { 'gpt-4.1': ['mystery'] } }, /"stormControl\.fallbacks\.gpt-4\.1": "mystery" has no price/],
    ['a zero stall bound', { localStallMs: 0 }, /"stormControl\.localStallMs": must be a number >= 1, got 0/],
    ['an unknown open-circuit mode', { whenOpen: 'hope' as never }, /"stormControl\.whenOpen"/],
    ['a pacing share above 1', { pacing: { share: 1.5 } }, /"stormControl\.pacing\.share"/],
    ['an empty fallback list', { fallbacks: { 'gpt-4.1': [] } }, /"stormControl\.fallbacks\.gpt-4\.1": must be a non-empty array/],
  ])('rejects %s, naming the option', (_, stormControl, message) => {
    expect(() => resolveModuleOptions({ stormControl })).toThrow(message);
  });
});
