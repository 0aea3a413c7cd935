import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';
import { PRICE_TABLE_VERSION } from './bundled-prices.js';
import { buildPriceTable, costMicroUsd, findPrice, worstCaseMicroUsd } from './price-table.js';

const table = buildPriceTable({ flat: { inputUsdPerMTok: 1, outputUsdPerMTok: 1 } }, 'pricing', new Date('2026-06-01T12:00:00Z'));
const price = (model: string) => findPrice(table, model)!;

describe('price table', () => {
  it('prices from the bundled @pydantic/genai-prices data at its pinned version', () => {
    const installed = createRequire(import.meta.url).resolve('@pydantic/genai-prices').replace(/dist\/index\.c?js$/, 'package.json');
    expect(JSON.parse(readFileSync(installed, 'utf8')).version).toBe(PRICE_TABLE_VERSION);
    expect(price('gpt-4o')).toMatchObject({ inputMicroUsdPerMTok: 2_500_000, cachedInputMicroUsdPerMTok: 1_250_000, outputMicroUsdPerMTok: 10_000_000 });
    // Names no provider claims are looked up in OpenAI's table; "provider/model" names the provider.
    expect(price('text-embedding-3-small')).toMatchObject({ inputMicroUsdPerMTok: 20_000, outputMicroUsdPerMTok: 0 });
    expect(price('anthropic/claude-3-5-haiku')).toMatchObject({ inputMicroUsdPerMTok: 800_000, outputMicroUsdPerMTok: 4_000_000 });
  });

  it('prices input and output tokens separately, in integer micro-dollars', () => {
    // 1000 in at $2/MTok + 500 out at $8/MTok = $0.002 + $0.004
    expect(costMicroUsd(price('gpt-4.1'), { inputTokens: 1_000, outputTokens: 500 })).toBe(6_000);
    expect(costMicroUsd(price('claude-3-5-sonnet'), { inputTokens: 0, outputTokens: 1_000_000 })).toBe(15_000_000);
  });

  it('rounds up, so that spend is never under-counted, and stays exact at any size', () => {
    // 1 token of gpt-4o-mini input costs 0.15 micro-dollars
    expect(costMicroUsd(price('gpt-4o-mini'), { inputTokens: 1, outputTokens: 0 })).toBe(1);
    fc.assert(
      fc.property(fc.nat(10_000_000), fc.nat(10_000_000), (inputTokens, outputTokens) => {
        const cost = costMicroUsd(price('gpt-4o-mini'), { inputTokens, outputTokens });
        expect(Number.isSafeInteger(cost)).toBe(true);
        expect(cost).toBeGreaterThanOrEqual(inputTokens * 0.15 + outputTokens * 0.6 - 1e-6);
        expect(cost).toBeLessThan(inputTokens * 0.15 + outputTokens * 0.6 + 1);
      }),
    );
    // 10^12 output tokens of a $600/MTok model: beyond 2^53 when scaled, exact with BigInt.
    expect(costMicroUsd({ ...price('flat'), outputMicroUsdPerMTok: 600_000_000 }, { inputTokens: 0, outputTokens: 1e12 })).toBe(6e14);
  });

  it('prices dated snapshots like their alias, and knows nothing of unknown models', () => {
    expect(findPrice(table, 'gpt-4o-mini-2024-07-18')).toEqual(findPrice(table, 'gpt-4o-mini'));
    expect(findPrice(table, 'flat-2025-01-01')).toEqual(findPrice(table, 'flat'));
    expect(findPrice(table, 'mystery-model')).toBeUndefined();
  });

  it('applies long-context tiers by the request input tokens', () => {
    // gemini-2.5-pro: $1.25 in / $10 out up to 200k prompt tokens, $2.50 / $15 above.
    expect(costMicroUsd(price('gemini-2.5-pro'), { inputTokens: 200_000, outputTokens: 1_000 })).toBe(250_000 + 10_000);
    expect(costMicroUsd(price('gemini-2.5-pro'), { inputTokens: 200_001, outputTokens: 1_000 })).toBe(500_003 + 15_000);
  });

  it('never counts on a price change or a discount hour: the dearest price that may apply', () => {
    // o3 cost $10/$40 before 2025-06-10 and $2/$8 since: only the price in force counts.
    expect(price('o3')).toMatchObject({ inputMicroUsdPerMTok: 2_000_000, outputMicroUsdPerMTok: 8_000_000 });
    // deepseek-chat in 0.1.8: $0.135/$0.55 off-peak and $0.27/$1.10 from 00:30 to 16:30 UTC: the dearer, at any hour.
    expect(price('deepseek-chat')).toMatchObject({ inputMicroUsdPerMTok: 270_000, cachedInputMicroUsdPerMTok: 70_000, outputMicroUsdPerMTok: 1_100_000 });
  });

  it('lets an override replace an entry, with the rates it leaves out from the table or its own', () => {
    const overridden = buildPriceTable({
      // DeepSeek's current list price (the night discount was cancelled): the override fixes the stale entry.
      'deepseek-chat': { inputUsdPerMTok: 0.28, outputUsdPerMTok: 0.42, cachedInputUsdPerMTok: 0.028 },
      'claude-sonnet-4-5': { inputUsdPerMTok: 3, outputUsdPerMTok: 15 },
      'my-model': { inputUsdPerMTok: 1, outputUsdPerMTok: 2, reasoningUsdPerMTok: 3, encoding: 'o200k_base' },
    });
    expect(findPrice(overridden, 'deepseek-chat')).toEqual({
      inputMicroUsdPerMTok: 280_000,
      cachedInputMicroUsdPerMTok: 28_000,
      cacheWriteMicroUsdPerMTok: 280_000,
      outputMicroUsdPerMTok: 420_000,
      reasoningMicroUsdPerMTok: 420_000,
    });
    // Flat (no long-context tier); cache reads and writes at the table's rates for them.
    expect(findPrice(overridden, 'claude-sonnet-4-5')).toEqual({
      inputMicroUsdPerMTok: 3_000_000,
      cachedInputMicroUsdPerMTok: 300_000,
      cacheWriteMicroUsdPerMTok: 6_000_000,
      outputMicroUsdPerMTok: 15_000_000,
      reasoningMicroUsdPerMTok: 15_000_000,
    });
    expect(findPrice(overridden, 'my-model')).toMatchObject({ cachedInputMicroUsdPerMTok: 1_000_000, reasoningMicroUsdPerMTok: 3_000_000 });
    expect(overridden.encoding('my-model')).toBe('o200k_base');
  });

  it.each([
    [{ mine: { inputUsdPerMTok: -1, outputUsdPerMTok: 1 } }, 'pricing.mine.inputUsdPerMTok'],
    [{ mine: { inputUsdPerMTok: 1, outputUsdPerMTok: Number.NaN } }, 'pricing.mine.outputUsdPerMTok'],
    [{ mine: { inputUsdPerMTok: 1, outputUsdPerMTok: 1, cachedInputUsdPerMTok: -0.1 } }, 'pricing.mine.cachedInputUsdPerMTok'],
    [{ mine: { inputUsdPerMTok: 1, outputUsdPerMTok: 1, encoding: 'p50k_base' as never } }, 'pricing.mine.encoding'],
  ])('rejects a bad override, naming the option', (pricing, option) => {
    const error = (() => {
      try {
        buildPriceTable(pricing);
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(isResilientLlmConfigurationError(error) && error.option).toBe(option);
  });

  it('prices a request worst case: prompt at the input rate, output cap at the output rate', () => {
    // gpt-4o: 1000 prompt tokens at $2.50 + 500 output at $10, not 1500 at $10.
    expect(worstCaseMicroUsd(price('gpt-4o'), 1_000, 500)).toBe(2_500 + 5_000);
    // claude-sonnet-4: a prompt token may be written to the cache (the 1-hour rate, $6): the dearest input rate.
    expect(worstCaseMicroUsd(price('claude-sonnet-4'), 1_000, 0)).toBe(6_000);
    // Embeddings: input only.
    expect(worstCaseMicroUsd(price('text-embedding-3-large'), 10_000, 0)).toBe(1_300);
  });
});
