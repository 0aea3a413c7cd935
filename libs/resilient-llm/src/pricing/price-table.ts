import { checkNumber, optionError } from '../errors/option-checks.js';
import { ENCODINGS, type EncodingName } from '../tokenizer/prompt-tokenizer.js';
import { bundledPrice } from './bundled-prices.js';
import { type MicroPrice, usdToMicro } from './micro-price.js';
import type { ModelPrice } from './model-price.interface.js';

export { type MicroPrice, type MicroRates, costMicroUsd, microUsdToUsd, worstCaseMicroUsd } from './micro-price.js';

interface Override {
  price: MicroPrice;
  encoding?: EncodingName;
}

// Provider responses name dated snapshots ("gpt-4o-mini-2024-07-18"); they cost what the alias costs.
const DATED_SNAPSHOT = /-\d{4}-\d{2}-\d{2}$/;
// Model names come from request bodies: remember a bounded number of look-ups.
const MAX_CACHED = 1_000;

/**
 * Prices by model: the user's `pricing` entries, then the bundled `@pydantic/genai-prices`
 * table (looked up once per model name). Immutable once built.
 */
export class PriceTable {
  private readonly looked = new Map<string, MicroPrice | null>();

  constructor(
    private readonly overrides: ReadonlyMap<string, Override>,
    /** The table's prices are those in force from this instant on (the module's start). */
    private readonly at: Date,
  ) {}

  /** The models priced by the `pricing` option. */
  get overriddenModels(): string[] {
    return [...this.overrides.keys()];
  }

  price(model: string): MicroPrice | undefined {
    const override = this.override(model);
    if (override) return override.price;
    let price = this.looked.get(model);
    if (price === undefined) {
      price = bundledPrice(model, this.at) ?? null;
      if (this.looked.size >= MAX_CACHED) this.looked.clear();
      this.looked.set(model, price);
    }
    return price ?? undefined;
  }

  /** The encoding an override names for the model; undefined: the model's name decides. */
  encoding(model: string): EncodingName | undefined {
    return this.override(model)?.encoding;
  }

  private override(model: string): Override | undefined {
    if (this.overrides.size === 0) return undefined;
    return this.overrides.get(model) ?? this.overrides.get(model.replace(DATED_SNAPSHOT, ''));
  }
}

function toMicro(path: string, usd: unknown): number {
  return usdToMicro(checkNumber(path, usd, { unit: 'US dollars per million tokens', min: 0 }));
}

function optionalMicro(path: string, usd: unknown, fallback: number): number {
  return usd === undefined ? fallback : toMicro(path, usd);
}

/**
 * Reads the `pricing` option: each entry replaces the table's price for its model, flat (no
 * long-context tiers). A rate it leaves out is the table's where the table prices that kind of
 * token apart (cache reads, cache writes, reasoning), else its own input or output rate.
 */
export function buildPriceTable(pricing: Record<string, ModelPrice> | undefined, optionPath = 'pricing', at = new Date()): PriceTable {
  if (pricing !== undefined && (typeof pricing !== 'object' || pricing === null)) {
    throw optionError(optionPath, 'an object of { [model]: { inputUsdPerMTok, outputUsdPerMTok } }', pricing);
  }
  const overrides = new Map<string, Override>();
  for (const [model, entry] of Object.entries(pricing ?? {})) {
    const path = `${optionPath}.${model}`;
    if (typeof entry !== 'object' || entry === null) {
      throw optionError(path, '{ inputUsdPerMTok, outputUsdPerMTok, cachedInputUsdPerMTok?, cacheWriteUsdPerMTok?, reasoningUsdPerMTok?, encoding? }', entry);
    }
    if (entry.encoding !== undefined && !ENCODINGS.includes(entry.encoding)) {
      throw optionError(`${path}.encoding`, `one of ${ENCODINGS.map((name) => `'${name}'`).join(', ')}`, entry.encoding);
    }
    const input = toMicro(`${path}.inputUsdPerMTok`, entry.inputUsdPerMTok);
    const output = toMicro(`${path}.outputUsdPerMTok`, entry.outputUsdPerMTok);
    // A rate left out: the table's, where it has one of its own for that kind of token; else the plain one.
    const table = bundledPrice(model, at);
    const distinct = (own: number | undefined, plain: number | undefined) => (own !== undefined && own !== plain ? own : undefined);
    overrides.set(model, {
      price: {
        inputMicroUsdPerMTok: input,
        cachedInputMicroUsdPerMTok: optionalMicro(`${path}.cachedInputUsdPerMTok`, entry.cachedInputUsdPerMTok, distinct(table?.cachedInputMicroUsdPerMTok, table?.inputMicroUsdPerMTok) ?? input),
        cacheWriteMicroUsdPerMTok: optionalMicro(`${path}.cacheWriteUsdPerMTok`, entry.cacheWriteUsdPerMTok, Math.max(input, distinct(table?.cacheWriteMicroUsdPerMTok, table?.inputMicroUsdPerMTok) ?? 0)),
        outputMicroUsdPerMTok: output,
        reasoningMicroUsdPerMTok: optionalMicro(`${path}.reasoningUsdPerMTok`, entry.reasoningUsdPerMTok, distinct(table?.reasoningMicroUsdPerMTok, table?.outputMicroUsdPerMTok) ?? output),
      },
      encoding: entry.encoding,
    });
  }
  return new PriceTable(overrides, at);
}

export function findPrice(table: PriceTable, model: string): MicroPrice | undefined {
  return table.price(model);
}
