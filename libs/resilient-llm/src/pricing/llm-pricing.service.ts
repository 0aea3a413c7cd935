import { Injectable } from '@nestjs/common';
import { InjectResilientLlmOptions } from '../resilient-llm.constants.js';
import type { ResolvedResilientLlmOptions } from '../module/resilient-llm-options.interface.js';
import { UnknownModelPriceError } from '../errors/unknown-model-price.error.js';
import type { TokenUsage } from './model-price.interface.js';
import { type MicroPrice, costMicroUsd, findPrice } from './price-table.js';

/** Prices token usage with the module's price table; an unknown model is an error, never a free call. */
@Injectable()
export class LlmPricing {
  constructor(@InjectResilientLlmOptions() private readonly options: ResolvedResilientLlmOptions) {}

  priceOf(model: string): MicroPrice {
    const price = findPrice(this.options.priceTable, model);
    if (!price) throw new UnknownModelPriceError(model, [...this.options.priceTable.keys()]);
    return price;
  }

  costMicroUsd(model: string, usage: TokenUsage): number {
    return costMicroUsd(this.priceOf(model), usage);
  }

  /** The most `tokens` can cost: all of them at the model's dearer rate (output, usually). */
  worstCaseMicroUsd(model: string, tokens: number): number {
    const price = this.priceOf(model);
    const dearer = Math.max(price.inputMicroUsdPerMTok, price.outputMicroUsdPerMTok);
    return Math.ceil((tokens * dearer) / 1_000_000);
  }
}
