import { parseResetDuration, readRateLimits, readRetryAfterMs } from './rate-limit-headers.js';

const nowMs = Date.UTC(2026, 10, 26, 12, 0, 0);

describe('parseResetDuration', () => {
  it.each([
    ['1s', 1_000],
    ['6m0s', 360_000],
    ['59.882s', 59_882],
    ['20ms', 20],
    ['1m30.5s', 90_500],
    ['2h0m0s', 7_200_000],
    ['0s', 0],
    ['1.5µs', 0.0015],
    ['500us', 0.5],
    ['3ns', 0.000003],
    [' 12ms ', 12],
    ['.5s', 500],
    ['2', 2_000],
    ['0', 0],
  ])('reads %j as %d ms', (text, expectedMs) => {
    expect(parseResetDuration(text)).toBeCloseTo(expectedMs, 9);
  });

  it.each(['', ' ', 'soon', '-1s', '1x', 's', '1m 30s', '1.2.3s', 'Infinity', 'NaN', '1e3s', '5S', '1d', `${'1'.repeat(70)}s`])('ignores %j', (text) => {
    expect(parseResetDuration(text)).toBeUndefined();
  });

  it('ignores what is not text', () => {
    expect(parseResetDuration(undefined)).toBeUndefined();
    expect(parseResetDuration(null)).toBeUndefined();
  });
});

describe('readRateLimits', () => {
  it('reads both limits of an OpenAI answer', () => {
    const headers = new Headers({
      'x-ratelimit-limit-requests': '5000',
      'x-ratelimit-limit-tokens': '160000',
      'x-ratelimit-remaining-requests': '4999',
      'x-ratelimit-remaining-tokens': '159976',
      'x-ratelimit-reset-requests': '12ms',
      'x-ratelimit-reset-tokens': '6m0s',
    });
    expect(readRateLimits(headers)).toEqual({
      requests: { limit: 5_000, remaining: 4_999, resetMs: 12 },
      tokens: { limit: 160_000, remaining: 159_976, resetMs: 360_000 },
    });
  });

  it('reads one limit alone, and a plain header record', () => {
    expect(readRateLimits(new Headers({ 'x-ratelimit-limit-tokens': '1000', 'x-ratelimit-remaining-tokens': '0' }))).toEqual({ tokens: { limit: 1_000, remaining: 0 } });
    expect(readRateLimits({ 'X-RateLimit-Remaining-Requests': '7' } as never)).toEqual({ requests: { remaining: 7 } });
  });

  it('keeps the readable fields and drops garbage, a zero limit included', () => {
    const headers = new Headers({
      'x-ratelimit-limit-requests': 'lots',
      'x-ratelimit-remaining-requests': '-3',
      'x-ratelimit-reset-requests': '1m',
      'x-ratelimit-limit-tokens': '0',
      'x-ratelimit-remaining-tokens': '12abc',
      'x-ratelimit-reset-tokens': 'later',
    });
    expect(readRateLimits(headers)).toEqual({ requests: { resetMs: 60_000 } });
  });

  it('answers undefined when nothing is readable, and never throws', () => {
    expect(readRateLimits(new Headers())).toBeUndefined();
    expect(readRateLimits(new Headers({ 'x-ratelimit-limit-requests': '' }))).toBeUndefined();
    expect(readRateLimits(undefined)).toBeUndefined();
    const throwing = { get: () => { throw new Error('broken'); } } as unknown as Headers;
    expect(readRateLimits(throwing)).toBeUndefined();
  });
});

describe('readRetryAfterMs', () => {
  it('prefers retry-after-ms, then reads retry-after as seconds or as an HTTP date', () => {
    expect(readRetryAfterMs(new Headers({ 'retry-after-ms': '150', 'retry-after': '9' }), nowMs)).toBe(150);
    expect(readRetryAfterMs(new Headers({ 'retry-after': '2' }), nowMs)).toBe(2_000);
    expect(readRetryAfterMs(new Headers({ 'retry-after': new Date(nowMs + 3_000).toUTCString() }), nowMs)).toBe(3_000);
  });

  it('ignores garbage', () => {
    expect(readRetryAfterMs(new Headers({ 'retry-after': 'soon' }), nowMs)).toBeUndefined();
    expect(readRetryAfterMs(new Headers(), nowMs)).toBeUndefined();
  });
});
