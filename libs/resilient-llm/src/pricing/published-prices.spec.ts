import { chatUsage, responsesUsage } from '../transport/adapters/usage.js';
import type { TokenUsage } from './model-price.interface.js';
import { buildPriceTable, costMicroUsd, findPrice } from './price-table.js';

/**
 * What calls cost, against each provider's published prices as @pydantic/genai-prices 0.1.8
 * carries them (USD per million tokens). Usage comes as each API reports it and goes through
 * the adapters' normalisation, so that nothing is counted twice. 1 token at $1/MTok = 1 micro-dollar.
 */
const table = buildPriceTable(undefined, 'pricing', new Date('2026-06-01T12:00:00Z'));
const cost = (model: string, usage: TokenUsage | undefined) => costMicroUsd(findPrice(table, model)!, usage!);

// 100 000 prompt tokens of which 80 000 read from the cache, 1 000 output tokens.
const cachedChat = chatUsage({ prompt_tokens: 100_000, completion_tokens: 1_000, prompt_tokens_details: { cached_tokens: 80_000 } });
const cachedResponses = responsesUsage({ input_tokens: 100_000, input_tokens_details: { cached_tokens: 80_000 }, output_tokens: 1_000 });
// Anthropic-shaped: cache reads are not part of input_tokens there.
const cachedAnthropic = responsesUsage({ input_tokens: 20_000, cache_read_input_tokens: 80_000, cache_creation_input_tokens: 0, output_tokens: 1_000 });
// 1 000 prompt tokens, 5 000 output tokens of which 4 000 reasoning.
const reasoningChat = chatUsage({ prompt_tokens: 1_000, completion_tokens: 5_000, completion_tokens_details: { reasoning_tokens: 4_000 } });
const reasoningResponses = responsesUsage({ input_tokens: 1_000, output_tokens: 5_000, output_tokens_details: { reasoning_tokens: 4_000 } });

describe('what calls cost at the providers published prices', () => {
  it('normalises usage: cached input is part of the input, reasoning part of the output', () => {
    const cached = { inputTokens: 100_000, cachedInputTokens: 80_000, outputTokens: 1_000 };
    expect(cachedChat).toEqual(cached);
    expect(cachedResponses).toEqual(cached);
    expect(cachedAnthropic).toEqual(cached);
    expect(reasoningChat).toEqual({ inputTokens: 1_000, outputTokens: 5_000, reasoningTokens: 4_000 });
    expect(reasoningResponses).toEqual(reasoningChat);
  });

  it.each([
    // provider, model, input, cached input, output ($/MTok): 20 000 x input + 80 000 x cached + 1 000 x output
    ['openai', 'gpt-4o', cachedChat, 20_000 * 2.5 + 80_000 * 1.25 + 1_000 * 10], // 160 000
    ['openai', 'gpt-4.1', cachedResponses, 20_000 * 2 + 80_000 * 0.5 + 1_000 * 8], // 88 000
    ['openai', 'gpt-5', cachedResponses, 20_000 * 1.25 + 80_000 * 0.125 + 1_000 * 10], // 45 000
    ['openai', 'o4-mini', cachedChat, 20_000 * 1.1 + 80_000 * 0.275 + 1_000 * 4.4], // 48 400
    ['anthropic', 'claude-sonnet-4', cachedAnthropic, 20_000 * 3 + 80_000 * 0.3 + 1_000 * 15], // 99 000
    ['anthropic', 'claude-opus-4-1', cachedAnthropic, 20_000 * 15 + 80_000 * 1.5 + 1_000 * 75], // 495 000
    ['google', 'gemini-2.5-flash', cachedChat, 20_000 * 0.3 + 80_000 * 0.03 + 1_000 * 2.5], // 10 900
    ['google', 'gemini-2.5-pro', cachedChat, 20_000 * 1.25 + 80_000 * 0.125 + 1_000 * 10], // 45 000 (under 200k: base tier)
    ['x-ai', 'grok-4', cachedChat, 20_000 * 3 + 80_000 * 0.75 + 1_000 * 15], // 135 000
  ])('%s %s: 80k cached of 100k prompt tokens', (_provider, model, usage, expected) => {
    expect(cost(model, usage)).toBe(expected);
  });

  it.each([
    // 1 000 x input + 5 000 x output: reasoning tokens are output tokens, billed once, at the output rate.
    ['openai', 'o4-mini', reasoningResponses, 1_000 * 1.1 + 5_000 * 4.4], // 23 100
    ['openai', 'gpt-5', reasoningChat, 1_000 * 1.25 + 5_000 * 10], // 51 250
    ['anthropic', 'claude-sonnet-4', reasoningChat, 1_000 * 3 + 5_000 * 15], // 78 000
    ['google', 'gemini-2.5-flash', reasoningChat, 1_000 * 0.3 + 5_000 * 2.5], // 12 800
    ['x-ai', 'grok-4', reasoningChat, 1_000 * 3 + 5_000 * 15], // 78 000
  ])('%s %s: 4k reasoning of 5k output tokens', (_provider, model, usage, expected) => {
    expect(cost(model, usage)).toBe(expected);
  });

  it('prices a cache write at its own rate, on top of Anthropic-shaped input tokens', () => {
    const usage = responsesUsage({ input_tokens: 10_000, cache_creation_input_tokens: 90_000, output_tokens: 0 });
    expect(usage).toEqual({ inputTokens: 100_000, cacheWriteTokens: 90_000, outputTokens: 0 });
    // claude-sonnet-4: $3 input; writes at $6, the dearer of the 5-minute ($3.75) and 1-hour ($6) rates,
    // since the usage does not say which (override cacheWriteUsdPerMTok to use only 5-minute writes).
    expect(cost('claude-sonnet-4', usage)).toBe(10_000 * 3 + 90_000 * 6);
  });

  it('prices with a reasoning rate where one is given, and DeepSeek at its current price once overridden', () => {
    const overridden = buildPriceTable({
      'deepseek-reasoner': { inputUsdPerMTok: 0.28, cachedInputUsdPerMTok: 0.028, outputUsdPerMTok: 0.42 },
      'thinker': { inputUsdPerMTok: 1, outputUsdPerMTok: 2, reasoningUsdPerMTok: 3 },
    });
    // deepseek: 1 000 x 0.28 + 5 000 x 0.42, and 20 000 x 0.28 + 80 000 x 0.028 + 1 000 x 0.42.
    expect(costMicroUsd(findPrice(overridden, 'deepseek-reasoner')!, reasoningChat!)).toBe(280 + 2_100);
    expect(costMicroUsd(findPrice(overridden, 'deepseek-reasoner')!, cachedChat!)).toBe(5_600 + 2_240 + 420);
    // 1 000 x 1 + 1 000 plain output x 2 + 4 000 reasoning x 3.
    expect(costMicroUsd(findPrice(overridden, 'thinker')!, reasoningChat!)).toBe(1_000 + 2_000 + 12_000);
  });

  it('never counts a part twice, and never less than its parts', () => {
    // Inconsistent reports: reasoning is capped at the output; a prompt total below its cached part is raised to it.
    expect(chatUsage({ prompt_tokens: 10, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 50 }, completion_tokens_details: { reasoning_tokens: 9 } })).toEqual({
      inputTokens: 50,
      cachedInputTokens: 50,
      outputTokens: 5,
      reasoningTokens: 5,
    });
    // A gateway passing Anthropic's cache fields along a chat answer: counted inside prompt_tokens.
    expect(chatUsage({ prompt_tokens: 100, completion_tokens: 1, cache_read_input_tokens: 60, cache_creation_input_tokens: 30 })).toEqual({
      inputTokens: 100,
      cachedInputTokens: 60,
      cacheWriteTokens: 30,
      outputTokens: 1,
    });
  });
});
