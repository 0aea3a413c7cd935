import { APIConnectionTimeoutError, APIError } from 'openai';
import { resolveModuleOptions } from '../module/resilient-llm-options.validation.js';
import { ManualClock } from '../testing/manual-clock.js';
import type { BackoffOptions } from './backoff-options.interface.js';
import { BackoffPolicy } from './backoff.policy.js';

const http = (status: number, headers: Record<string, string> = {}) => APIError.generate(status, { error: {} }, undefined, new Headers(headers));

function policyWith(backoff: BackoffOptions, random = 0.5) {
  const clock = new ManualClock();
  const policy = new BackoffPolicy(resolveModuleOptions({ backoff }), clock, () => random);
  return { clock, policy, start: clock.now() };
}

describe('BackoffPolicy.decide', () => {
  it('computes the delay for the attempt number with the configured strategy', () => {
    const { policy, start } = policyWith({ strategy: 'exponential', baseMs: 100, capMs: 1_000, maxAttempts: 5 });
    const delays = [1, 2, 3, 4].map((attemptsMade) => policy.decide({ attemptsMade, startedAtMs: start }, http(503)));
    expect(delays.map((d) => d.retry && d.delayMs)).toEqual([100, 200, 400, 800]);
    expect(delays.every((d) => d.retry && d.source === 'computed')).toBe(true);
  });

  it('stops at maxAttempts', () => {
    const { policy, start } = policyWith({ maxAttempts: 3 });
    expect(policy.decide({ attemptsMade: 2, startedAtMs: start }, http(503)).retry).toBe(true);
    expect(policy.decide({ attemptsMade: 3, startedAtMs: start }, http(503))).toMatchObject({ retry: false, reason: 'max_attempts' });
  });

  it('gives up on non-retryable errors at once', () => {
    const { policy, start } = policyWith({});
    expect(policy.decide({ attemptsMade: 1, startedAtMs: start }, http(401))).toMatchObject({ retry: false, reason: 'not_retryable' });
  });

  it('honours Retry-After and retry-after-ms, capped by maxServerDelayMs', () => {
    const { policy, start } = policyWith({ maxServerDelayMs: 5_000, deadlineMs: 600_000 });
    expect(policy.decide({ attemptsMade: 1, startedAtMs: start }, http(429, { 'retry-after': '2' }))).toMatchObject({
      retry: true,
      delayMs: 2_000,
      source: 'retry-after',
    });
    expect(policy.decide({ attemptsMade: 1, startedAtMs: start }, http(429, { 'retry-after-ms': '150' }))).toMatchObject({
      retry: true,
      delayMs: 150,
      source: 'retry-after-ms',
    });
    expect(policy.decide({ attemptsMade: 1, startedAtMs: start }, http(503, { 'retry-after': '120' }))).toMatchObject({
      retry: true,
      delayMs: 5_000,
      source: 'retry-after',
    });
  });

  it('fails fast when the server asks to wait past the deadline', () => {
    const { policy, clock, start } = policyWith({ deadlineMs: 10_000 });
    clock.advance(4_000);
    expect(policy.decide({ attemptsMade: 1, startedAtMs: start }, http(429, { 'retry-after': '7' }))).toMatchObject({
      retry: false,
      reason: 'server_wait_exceeds_deadline',
      serverDelayMs: 7_000,
    });
  });

  it('gives up when the computed delay would pass the deadline', () => {
    const { policy, clock, start } = policyWith({ strategy: 'exponential', baseMs: 1_000, capMs: 1_000, deadlineMs: 5_000 });
    clock.advance(4_500);
    expect(policy.decide({ attemptsMade: 1, startedAtMs: start }, new APIConnectionTimeoutError())).toMatchObject({
      retry: false,
      reason: 'deadline',
    });
  });

  it('waits longer after server errors with serverErrorMultiplier, not after rate limits', () => {
    const { policy, start } = policyWith({ strategy: 'exponential', baseMs: 100, capMs: 1_000, serverErrorMultiplier: 3 });
    expect(policy.decide({ attemptsMade: 1, startedAtMs: start }, http(503))).toMatchObject({ delayMs: 300 });
    expect(policy.decide({ attemptsMade: 1, startedAtMs: start }, http(429))).toMatchObject({ delayMs: 100 });
  });

  it('takes per-call options without touching the defaults', () => {
    const { policy, start } = policyWith({ maxAttempts: 5 });
    const strict = { ...policy.defaults, maxAttempts: 1 };
    expect(policy.decide({ attemptsMade: 1, startedAtMs: start }, http(503), strict)).toMatchObject({ retry: false, reason: 'max_attempts' });
    expect(policy.defaults.maxAttempts).toBe(5);
  });
});
