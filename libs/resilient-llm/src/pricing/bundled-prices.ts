import { type ModelInfo, type ModelPrice as TablePrice, calcPrice } from '@pydantic/genai-prices';
import { type MicroPrice, type MicroRates, maxPrice, microUsdToUsd, usdToMicro } from './micro-price.js';
import type { ModelPrice } from './model-price.interface.js';

/** The `@pydantic/genai-prices` release whose bundled data prices models (pinned; its data is never updated at run time). */
export const PRICE_TABLE_VERSION = '0.1.8';
export const PRICE_TABLE_SOURCE = `@pydantic/genai-prices ${PRICE_TABLE_VERSION}`;

type TableRate = TablePrice[string];

/** A rate of the table in micro-dollars per million tokens, at `inputTokens` (long-context tiers). */
function rateAt(rate: TableRate, inputTokens: number): number | undefined {
  if (rate === undefined) return undefined;
  if (typeof rate === 'number') return usdToMicro(rate);
  let usd = rate.base;
  for (const tier of rate.tiers) if (inputTokens > tier.start) usd = tier.price;
  return usdToMicro(usd);
}

function ratesAt(prices: TablePrice, inputTokens: number): MicroRates | undefined {
  const input = rateAt(prices.input_mtok, inputTokens);
  if (input === undefined) return undefined; // not priced by the token: audio by the hour, per image...
  const output = rateAt(prices.output_mtok, inputTokens) ?? 0;
  // One write rate: the dearer of the 5-minute and 1-hour ones, since usage rarely says which.
  const cacheWrite = Math.max(rateAt(prices.cache_write_mtok, inputTokens) ?? input, rateAt(prices.cache_write_1h_mtok, inputTokens) ?? 0);
  return {
    inputMicroUsdPerMTok: input,
    cachedInputMicroUsdPerMTok: rateAt(prices.cache_read_mtok, inputTokens) ?? input,
    cacheWriteMicroUsdPerMTok: cacheWrite,
    outputMicroUsdPerMTok: output,
    reasoningMicroUsdPerMTok: rateAt(prices.output_reasoning_mtok, inputTokens) ?? output,
  };
}

/** One price of the table as a `MicroPrice`, its long-context tiers kept. */
function microPrice(prices: TablePrice): MicroPrice | undefined {
  const base = ratesAt(prices, 0);
  if (!base) return undefined;
  const starts = new Set<number>();
  for (const rate of Object.values(prices)) if (typeof rate === 'object') for (const tier of rate.tiers) starts.add(tier.start);
  const tiers = [...starts].sort((a, b) => a - b).map((start) => ({ aboveInputTokens: start, ...ratesAt(prices, start + 1)! }));
  return tiers.length > 0 ? { ...base, tiers } : base;
}

/**
 * The prices that may apply from `at` on: the one in force and any scheduled later (a price
 * change must not find a running process under-counting), and every time-of-day variant (a
 * discount hour is never counted on). Their dearest, rate by rate.
 */
function applicablePrices(model: ModelInfo, at: Date): TablePrice[] {
  if (!Array.isArray(model.prices)) return [model.prices];
  const applicable: TablePrice[] = [];
  for (let index = model.prices.length - 1; index >= 0; index--) {
    const { constraint, prices } = model.prices[index];
    applicable.push(prices);
    if (constraint === undefined) break;
    if (constraint.type === 'start_date' && new Date(constraint.start_date) <= at) break;
  }
  return applicable;
}

function lookUp(model: string): ModelInfo | undefined {
  const attempt = (name: string, providerId?: string) => {
    try {
      return calcPrice({ input_tokens: 0, output_tokens: 0 }, name, providerId ? { providerId } : undefined)?.model;
    } catch {
      return undefined; // an entry priced in units other than tokens
    }
  };
  // "anthropic/claude-sonnet-4-5" or "anthropic:claude-sonnet-4-5" names its provider.
  const prefixed = /^([a-z0-9-]+)[/:](.+)$/i.exec(model);
  return (
    (prefixed ? attempt(prefixed[2], prefixed[1]) : undefined) ??
    attempt(model) ??
    // The module speaks OpenAI's API: names no provider claims (text-embedding-3-small) are looked up there.
    attempt(model, 'openai')
  );
}

/** The bundled table's price for `model` as it stands from `at` on; undefined when the table does not know it. */
export function bundledPrice(model: string, at: Date): MicroPrice | undefined {
  const info = lookUp(model);
  if (!info) return undefined;
  let price: MicroPrice | undefined;
  for (const prices of applicablePrices(info, at)) {
    const candidate = microPrice(prices);
    if (!candidate) return undefined;
    price = price ? maxPrice(price, candidate) : candidate;
  }
  return price;
}

const LEGACY_MODELS = ['gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano', 'gpt-4o', 'gpt-4o-mini', 'claude-3-5-sonnet', 'claude-3-5-haiku', 'deepseek-v3.2'];

/**
 * @deprecated The module prices every model of the bundled table now (`LlmPricing.priceOf`).
 * The input and output rates of the eight models the module used to list, from that table.
 */
export const DEFAULT_MODEL_PRICES: Readonly<Record<string, ModelPrice>> = Object.freeze(
  Object.fromEntries(
    LEGACY_MODELS.flatMap((model) => {
      const price = bundledPrice(model, new Date());
      return price ? [[model, { inputUsdPerMTok: microUsdToUsd(price.inputMicroUsdPerMTok), outputUsdPerMTok: microUsdToUsd(price.outputMicroUsdPerMTok) }]] : [];
    }),
  ),
);
