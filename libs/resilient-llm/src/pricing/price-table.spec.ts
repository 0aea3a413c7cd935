import fc from 'fast-check';
import { DEFAULT_MODEL_PRICES } from './model-price.interface.js';
import { buildPriceTable, costMicroUsd, findPrice } from './price-table.js';

const table = buildPriceTable({ ...DEFAULT_MODEL_PRICES });

describe('price table', () => {
  it('prices input and output tokens separately, in integer micro-dollars', () => {
    const price = findPrice(table, 'gpt-4.1')!;
    // 1000 in at $2/MTok + 500 out at $8/MTok = $0.002 + $0.004
    expect(costMicroUsd(price, { inputTokens: 1_000, outputTokens: 500 })).toBe(6_000);
    expect(costMicroUsd(findPrice(table, 'claude-3-5-sonnet')!, { inputTokens: 0, outputTokens: 1_000_000 })).toBe(15_000_000);
    expect(costMicroUsd(findPrice(table, 'deepseek-v3.2')!, { inputTokens: 0, outputTokens: 1_000_000 })).toBe(420_000);
  });

  it('rounds up, so that spend is never under-counted', () => {
    // 1 token of gpt-4o-mini input costs 0.15 micro-dollars
    expect(costMicroUsd(findPrice(table, 'gpt-4o-mini')!, { inputTokens: 1, outputTokens: 0 })).toBe(1);
    fc.assert(
      fc.property(fc.nat(10_000_000), fc.nat(10_000_000), (inputTokens, outputTokens) => {
        const price = findPrice(table, 'gpt-4o-mini')!;
        const cost = costMicroUsd(price, { inputTokens, outputTokens });
        expect(Number.isSafeInteger(cost)).toBe(true);
        expect(cost).toBeGreaterThanOrEqual((inputTokens * 0.15 + outputTokens * 0.6) - 1e-6);
        expect(cost).toBeLessThan(inputTokens * 0.15 + outputTokens * 0.6 + 1);
      }),
    );
  });

  it('prices dated snapshots like their alias, and knows nothing of unknown models', () => {
    expect(findPrice(table, 'gpt-4o-mini-2024-07-18')).toEqual(findPrice(table, 'gpt-4o-mini'));
    expect(findPrice(table, 'mystery-model')).toBeUndefined();
  });
});
