import type { TokenUsage } from './model-price.interface.js';

/** Micro-dollars per dollar: money is kept in integer micro-dollars, never in floats. */
export const MICRO = 1_000_000;
const MICRO_N = 1_000_000n;

/** Rates in integer micro-dollars per million tokens, so that cost arithmetic never touches floats. */
export interface MicroRates {
  inputMicroUsdPerMTok: number;
  cachedInputMicroUsdPerMTok: number;
  cacheWriteMicroUsdPerMTok: number;
  outputMicroUsdPerMTok: number;
  reasoningMicroUsdPerMTok: number;
}

/** A model's rates, with the long-context tiers some providers charge (all rates, once the prompt is above a size). */
export interface MicroPrice extends MicroRates {
  /** Ascending: the last one whose `aboveInputTokens` the request's input tokens exceed applies. */
  readonly tiers?: ReadonlyArray<MicroRates & { aboveInputTokens: number }>;
}

const RATE_KEYS = [
  'inputMicroUsdPerMTok',
  'cachedInputMicroUsdPerMTok',
  'cacheWriteMicroUsdPerMTok',
  'outputMicroUsdPerMTok',
  'reasoningMicroUsdPerMTok',
] as const satisfies ReadonlyArray<keyof MicroRates>;

/** US dollars per million tokens to integer micro-dollars per million tokens, rounded up (a float's last bit aside). */
export const usdToMicro = (usd: number): number => Math.max(0, Math.ceil(usd * MICRO - 1e-6));

export const microUsdToUsd = (microUsd: number): number => microUsd / MICRO;

/** The rates that apply to a request of `inputTokens` input tokens. */
export function ratesFor(price: MicroPrice, inputTokens: number): MicroRates {
  let rates: MicroRates = price;
  for (const tier of price.tiers ?? []) if (inputTokens > tier.aboveInputTokens) rates = tier;
  return rates;
}

const pick = (rates: MicroRates): MicroRates => Object.fromEntries(RATE_KEYS.map((key) => [key, rates[key]])) as unknown as MicroRates;

function maxRates(a: MicroRates, b: MicroRates): MicroRates {
  return Object.fromEntries(RATE_KEYS.map((key) => [key, Math.max(a[key], b[key])])) as unknown as MicroRates;
}

/** Rate by rate and tier by tier, the dearer of two prices. */
export function maxPrice(a: MicroPrice, b: MicroPrice): MicroPrice {
  const starts = [...new Set([...(a.tiers ?? []), ...(b.tiers ?? [])].map((tier) => tier.aboveInputTokens))].sort((x, y) => x - y);
  const base = maxRates(pick(a), pick(b));
  if (starts.length === 0) return base;
  return { ...base, tiers: starts.map((start) => ({ aboveInputTokens: start, ...maxRates(ratesFor(a, start + 1), ratesFor(b, start + 1)) })) };
}

const whole = (value: number | undefined, max: number): bigint => BigInt(Math.min(max, Math.max(0, Math.floor(value ?? 0))));

/**
 * What a completion cost, in integer micro-dollars, rounded up: a budget must never
 * under-count what was billed. Cached and cache-write tokens are parts of the input, reasoning
 * of the output: each part at its rate, the rest at the plain one. Exact (BigInt) at any size.
 */
export function costMicroUsd(price: MicroPrice, usage: TokenUsage): number {
  const inputTokens = whole(usage.inputTokens, Number.MAX_SAFE_INTEGER);
  const outputTokens = whole(usage.outputTokens, Number.MAX_SAFE_INTEGER);
  const cached = whole(usage.cachedInputTokens, Number(inputTokens));
  const written = whole(usage.cacheWriteTokens, Number(inputTokens - cached));
  const reasoning = whole(usage.reasoningTokens, Number(outputTokens));
  const rates = ratesFor(price, Number(inputTokens));
  const scaled =
    (inputTokens - cached - written) * BigInt(rates.inputMicroUsdPerMTok) +
    cached * BigInt(rates.cachedInputMicroUsdPerMTok) +
    written * BigInt(rates.cacheWriteMicroUsdPerMTok) +
    (outputTokens - reasoning) * BigInt(rates.outputMicroUsdPerMTok) +
    reasoning * BigInt(rates.reasoningMicroUsdPerMTok);
  return Number((scaled + MICRO_N - 1n) / MICRO_N);
}

/**
 * The most a request can cost: every prompt token at the dearest input rate (plain, or written
 * to the cache where that costs more) and every output token up to the cap at the dearer of
 * the output and reasoning rates, in the tier the prompt falls in.
 */
export function worstCaseMicroUsd(price: MicroPrice, promptTokens: number, outputCap: number): number {
  const rates = ratesFor(price, promptTokens);
  const input = Math.max(rates.inputMicroUsdPerMTok, rates.cachedInputMicroUsdPerMTok, rates.cacheWriteMicroUsdPerMTok);
  const output = Math.max(rates.outputMicroUsdPerMTok, rates.reasoningMicroUsdPerMTok);
  const scaled = whole(promptTokens, Number.MAX_SAFE_INTEGER) * BigInt(input) + whole(outputCap, Number.MAX_SAFE_INTEGER) * BigInt(output);
  return Number((scaled + MICRO_N - 1n) / MICRO_N);
}

/** The dearest rate of any kind in any tier: what a bare token estimate is priced at. */
export function dearestRate(price: MicroPrice): number {
  let dearest = dearestRates.get(price);
  if (dearest === undefined) {
    dearest = Math.max(...[price, ...(price.tiers ?? [])].flatMap((rates) => RATE_KEYS.map((key) => rates[key])));
    dearestRates.set(price, dearest);
  }
  return dearest;
}

// Prices are read-only once made; a call's estimate asks for its model's dearest rate every time.
const dearestRates = new WeakMap<MicroPrice, number>();
