import { hasBrand } from './brand.js';

const brand = Symbol.for('resilient-llm.ResilientLlmConfigurationError');

/**
 * Bad module options or decorator arguments. Thrown while the app boots, so a
 * misconfiguration never reaches a request. `option` is the dotted path of the culprit.
 */
export class ResilientLlmConfigurationError extends TypeError {
  readonly [brand] = true;
  override readonly name = 'ResilientLlmConfigurationError';

  constructor(
    readonly option: string,
    readonly problem: string,
  ) {
    super(`resilient-llm: invalid option "${option}": ${problem}`);
  }
}

export const isResilientLlmConfigurationError = (error: unknown): error is ResilientLlmConfigurationError => hasBrand(error, brand);
