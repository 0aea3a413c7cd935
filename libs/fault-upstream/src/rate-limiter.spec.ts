import { parseFaultScript } from './fault-script.js';
import { RateLimiter, formatResetDuration, outputTokensCounted } from './rate-limiter.js';
import { TokenBucket } from './token-bucket.js';

describe('formatResetDuration', () => {
  it.each([
    [0, '0s'],
    [-5, '0s'],
    [0.2, '1ms'],
    [20, '20ms'],
    [999, '999ms'],
    [1_000, '1s'],
    [59_882, '59.882s'],
    [60_000, '1m0s'],
    [90_500, '1m30.5s'],
    [360_000, '6m0s'],
    [3_600_000, '1h0m0s'],
    [3_723_004, '1h2m3.004s'],
  ])('writes %j ms as %j, as OpenAI (Go durations) do', (ms, text) => {
    expect(formatResetDuration(ms)).toBe(text);
  });
});

describe('outputTokensCounted', () => {
  it('counts the cap once a choice, and 4096 when there is no usable cap', () => {
    expect(outputTokensCounted(100)).toBe(100);
    expect(outputTokensCounted(100, 3)).toBe(300);
    expect(outputTokensCounted(undefined)).toBe(4096);
    expect(outputTokensCounted(null, 2)).toBe(8192);
    expect(outputTokensCounted('100', 'two')).toBe(4096);
  });
});

describe('TokenBucket', () => {
  it('refills exactly at the limit pace on an integer clock, never past its limit, and not when the clock steps back', () => {
    let now = 0;
    const bucket = new TokenBucket(7, 60_000, 0, () => now);
    // 7 a minute is one each 8571.43 ms: the k-th request comes on the first whole millisecond it may.
    for (let request = 1; request <= 1_000; request++) {
      now = Math.ceil((request * 60_000) / 7) - 1;
      expect(bucket.msUntilHolding(1)).toBeGreaterThan(0);
      now += 1;
      expect(bucket.msUntilHolding(1)).toBe(0);
      bucket.take(1);
    }
    now = 10_000_000;
    expect(bucket.remaining()).toBe(7);
    bucket.take(7);
    now -= 5_000;
    expect(bucket.remaining()).toBe(0);
    expect(bucket.msUntilFull()).toBe(60_000 + 5_000);
    expect(bucket.msUntilHolding(8)).toBe(Infinity);
  });
});

describe('RateLimiter', () => {
  const limiterOf = (rateLimit: object, now: () => number) => new RateLimiter(parseFaultScript({ rateLimit }).rateLimit!, now);

  it('takes from neither bucket when one of them is short, and names the dimension with the longer wait', () => {
    const now = 0;
    const limiter = limiterOf({ requestsPerMinute: 10, tokensPerMinute: 100, windowMs: 1_000 }, () => now);
    expect(limiter.admit(95).refusal).toBeUndefined();
    const refused = limiter.admit(10);
    // Tokens: 5 short at 0.1 a millisecond (50 ms); requests: 9 left, no wait.
    expect(refused.refusal?.headers).toEqual({ 'retry-after': '1', 'retry-after-ms': '50' });
    expect(refused.refusal?.body.error).toMatchObject({ type: 'tokens', code: 'rate_limit_exceeded' });
    expect(refused.headers).toMatchObject({ 'x-ratelimit-remaining-requests': '9', 'x-ratelimit-remaining-tokens': '5' });
    expect(limiter.admit(5).headers).toMatchObject({ 'x-ratelimit-remaining-requests': '8', 'x-ratelimit-remaining-tokens': '0' });
  });

  it('rounds retry-after up to whole seconds and retry-after-ms up to whole milliseconds', () => {
    const limiter = limiterOf({ requestsPerMinute: 3, windowMs: 10_000, startLevel: 0 }, () => 0);
    // One request refills in 10 000 / 3 = 3333.33 ms.
    expect(limiter.admit(0).refusal?.headers).toEqual({ 'retry-after': '4', 'retry-after-ms': '3334' });
  });
});

describe('parseFaultScript rateLimit', () => {
  it('fills in the defaults and keeps only the limits given', () => {
    expect(parseFaultScript({ rateLimit: { requestsPerMinute: 60 } }).rateLimit).toEqual({ requestsPerMinute: 60, windowMs: 60_000, startLevel: 1 });
    expect(parseFaultScript({}).rateLimit).toBeUndefined();
  });

  it.each([
    [{ rateLimit: {} }, /"rateLimit" needs requestsPerMinute, tokensPerMinute or both/],
    [{ rateLimit: 60 }, /"rateLimit" must be \{/],
    [{ rateLimit: { requestsPerMinute: 0 } }, /"rateLimit.requestsPerMinute" must be a whole number >= 1, got 0/],
    [{ rateLimit: { tokensPerMinute: 1.5 } }, /"rateLimit.tokensPerMinute" must be a whole number >= 1, got 1.5/],
    [{ rateLimit: { requestsPerMinute: 1, windowMs: 0 } }, /"rateLimit.windowMs" must be a whole number >= 1/],
    [{ rateLimit: { requestsPerMinute: 1, startLevel: 2 } }, /"rateLimit.startLevel" must be a fraction in \[0, 1\], got 2/],
    [{ rateLimit: { rpm: 1 } }, /"rateLimit.rpm" is not a rate limit field/],
  ])('rejects %j, naming the field', (input, message) => {
    expect(() => parseFaultScript(input)).toThrow(message);
  });
});
