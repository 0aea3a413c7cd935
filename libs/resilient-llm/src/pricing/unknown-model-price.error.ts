import { PRICE_TABLE_SOURCE } from './bundled-prices.js';
import { hasBrand } from '../errors/brand.js';

const brand = Symbol.for('resilient-llm.UnknownModelPriceError');

/** A model with no price: costing it as zero would let it spend without limit. */
export class UnknownModelPriceError extends Error {
  readonly [brand] = true;
  override readonly name = 'UnknownModelPriceError';

  constructor(
    readonly model: string,
    /** The models the `pricing` option prices. */
    overriddenModels: string[] = [],
  ) {
    const overridden = overriddenModels.length > 0 ? `; "pricing" has: ${overriddenModels.join(', ')}` : '';
    super(
      `resilient-llm: no price for model "${model}" in the bundled table (${PRICE_TABLE_SOURCE}) nor in the module's "pricing" option. ` +
        `Add it: pricing: { "${model}": { inputUsdPerMTok, outputUsdPerMTok } }${overridden}`,
    );
  }
}

export const isUnknownModelPriceError = (error: unknown): error is UnknownModelPriceError => hasBrand(error, brand);
