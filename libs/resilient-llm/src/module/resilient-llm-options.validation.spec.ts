import { resolveModuleOptions } from './resilient-llm-options.validation.js';
import type { ResilientLlmModuleOptions } from './resilient-llm-options.interface.js';

describe('resolveModuleOptions', () => {
  it('fills in documented defaults', () => {
    const options = resolveModuleOptions({});
    expect(options.backoff).toEqual({
      strategy: 'full',
      baseMs: 500,
      capMs: 10_000,
      maxAttempts: 3,
      deadlineMs: 60_000,
      serverErrorMultiplier: 1,
      maxServerDelayMs: 60_000,
    });
    expect(options.defaultModel).toBe('gpt-4o-mini');
    expect(options.client.attemptTimeoutMs).toBe(60_000);
    expect(options.defaultMaxOutputTokens).toBe(4_096);
  });

  it.each<[string, ResilientLlmModuleOptions, RegExp]>([
    ['a negative delay', { backoff: { baseMs: -1 } }, /"backoff\.baseMs": must be >= 0, got -1/],
    ['a cap below the base', { backoff: { baseMs: 1_000, capMs: 10 } }, /"backoff\.capMs": must be >= baseMs \(1000\), got 10/],
    ['an unknown strategy', { backoff: { strategy: 'fibonacci' as never } }, /"backoff\.strategy": unknown strategy "fibonacci"; use one of exponential, full, equal, decorrelated, bounded/],
    ['NaN attempts', { backoff: { maxAttempts: Number.NaN } }, /"backoff\.maxAttempts": must be a finite number, got NaN/],
    ['zero attempts', { backoff: { maxAttempts: 0 } }, /"backoff\.maxAttempts": must be >= 1/],
    ['too many attempts', { backoff: { maxAttempts: 50 } }, /"backoff\.maxAttempts": must be <= 10/],
    ['a fractional attempt count', { backoff: { maxAttempts: 2.5 } }, /"backoff\.maxAttempts": must be a whole number/],
    ['a multiplier below 1', { backoff: { serverErrorMultiplier: 0.5 } }, /"backoff\.serverErrorMultiplier": must be >= 1/],
    ['a zero deadline', { backoff: { deadlineMs: 0 } }, /"backoff\.deadlineMs": must be >= 1/],
    ['a relative base URL', { client: { baseURL: 'localhost:8080' } }, /"client\.baseURL": must be an absolute http\(s\) URL/],
    ['a zero attempt timeout', { client: { attemptTimeoutMs: 0 } }, /"client\.attemptTimeoutMs"/],
    ['a negative price', { pricing: { mine: { inputUsdPerMTok: -1, outputUsdPerMTok: 1 } } }, /"pricing\.mine\.inputUsdPerMTok"/],
    ['an unpriced default model', { defaultModel: 'my-llm' }, /"defaultModel": "my-llm" has no price/],
    ['a zero output cap', { defaultMaxOutputTokens: 0 }, /"defaultMaxOutputTokens": must be a whole number of tokens from 1 to 1000000, got 0/],
    ['a fractional output cap', { defaultMaxOutputTokens: 10.5 }, /"defaultMaxOutputTokens": must be a whole number of tokens/],
    ['an output cap past a million', { defaultMaxOutputTokens: 2_000_000 }, /"defaultMaxOutputTokens": must be a whole number of tokens from 1 to 1000000, got 2000000/],
  ])('rejects %s, naming the option', (_, options, message) => {
    expect(() => resolveModuleOptions(options)).toThrow(message);
  });

  it('accepts a price for a custom model and uses it as the default', () => {
    const options = resolveModuleOptions({ defaultModel: 'my-llm', pricing: { 'my-llm': { inputUsdPerMTok: 1, outputUsdPerMTok: 2 } } });
    expect(options.priceTable.price('my-llm')).toMatchObject({ inputMicroUsdPerMTok: 1_000_000, outputMicroUsdPerMTok: 2_000_000 });
  });
});
