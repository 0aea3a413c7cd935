const brand = Symbol.for('resilient-llm.UnknownModelPriceError');

/** A model with no price: costing it as zero would let it spend without limit. */
export class UnknownModelPriceError extends Error {
  readonly [brand] = true;
  override readonly name = 'UnknownModelPriceError';

  constructor(
    readonly model: string,
    knownModels: string[],
  ) {
    super(
      `resilient-llm: no price for model "${model}". Add it to the module's "pricing" option ` +
        `({ "${model}": { inputUsdPerMTok, outputUsdPerMTok } }); known models: ${knownModels.join(', ')}`,
    );
  }
}

export const isUnknownModelPriceError = (error: unknown): error is UnknownModelPriceError =>
  typeof error === 'object' && error !== null && brand in error;
