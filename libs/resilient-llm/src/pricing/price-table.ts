import { ResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';
import type { ModelPrice, TokenUsage } from './model-price.interface.js';

/** Prices as integer micro-dollars per million tokens, so that cost arithmetic never touches floats. */
export interface MicroPrice {
  inputMicroUsdPerMTok: number;
  outputMicroUsdPerMTok: number;
}

export type PriceTable = ReadonlyMap<string, MicroPrice>;

const MICRO = 1_000_000;
// Provider responses name dated snapshots ("gpt-4o-mini-2024-07-18"); they cost what the alias costs.
const DATED_SNAPSHOT = /-\d{4}-\d{2}-\d{2}$/;

function toMicro(path: string, usd: unknown): number {
  if (typeof usd !== 'number' || !Number.isFinite(usd) || usd < 0) {
    throw new ResilientLlmConfigurationError(path, `must be a finite number of US dollars >= 0, got ${String(usd)}`);
  }
  return Math.round(usd * MICRO);
}

export function buildPriceTable(prices: Record<string, ModelPrice>, optionPath = 'pricing'): PriceTable {
  const table = new Map<string, MicroPrice>();
  for (const [model, price] of Object.entries(prices)) {
    if (typeof price !== 'object' || price === null) {
      throw new ResilientLlmConfigurationError(`${optionPath}.${model}`, 'must be { inputUsdPerMTok, outputUsdPerMTok }');
    }
    table.set(model, {
      inputMicroUsdPerMTok: toMicro(`${optionPath}.${model}.inputUsdPerMTok`, price.inputUsdPerMTok),
      outputMicroUsdPerMTok: toMicro(`${optionPath}.${model}.outputUsdPerMTok`, price.outputUsdPerMTok),
    });
  }
  return table;
}

export function findPrice(table: PriceTable, model: string): MicroPrice | undefined {
  return table.get(model) ?? table.get(model.replace(DATED_SNAPSHOT, ''));
}

/** Cost in integer micro-dollars, rounded up: a budget must never under-count what was billed. */
export function costMicroUsd(price: MicroPrice, usage: TokenUsage): number {
  const scaled = usage.inputTokens * price.inputMicroUsdPerMTok + usage.outputTokens * price.outputMicroUsdPerMTok;
  return Math.ceil(scaled / MICRO);
}

export const microUsdToUsd = (microUsd: number): number => microUsd / MICRO;
