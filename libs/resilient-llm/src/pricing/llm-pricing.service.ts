import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectPricingSettings } from '../resilient-llm.constants.js';
import type { PriceTable } from './price-table.js';
import { UnknownModelPriceError } from './unknown-model-price.error.js';
import { type PromptTokenizer, encodingOf, loadEncoding, promptTokenizerFor } from '../tokenizer/prompt-tokenizer.js';
import { type MicroPrice, costMicroUsd, dearestRate, worstCaseMicroUsd } from './micro-price.js';
import type { TokenUsage } from './model-price.interface.js';

/** Prices token usage with the module's price table; an unknown model is an error, never a free call. */
/** Pricing's slice of the resolved module options (token `RESILIENT_LLM_PRICING_SETTINGS`). */
export interface PricingSettings {
  readonly priceTable: PriceTable;
  readonly defaultModel: string;
  /** With a budget, prompts are counted: the default model's tokenizer is loaded at startup. */
  readonly budget: { readonly enabled: boolean };
}

@Injectable()
export class LlmPricing implements OnModuleInit {
  constructor(@InjectPricingSettings() private readonly options: PricingSettings) {}

  /** With a budget, the default model's encoding is loaded at startup, not on the first request. */
  async onModuleInit(): Promise<void> {
    if (!this.options.budget.enabled) return;
    await this.prepareTokenizer(this.options.defaultModel);
  }

  priceOf(model: string): MicroPrice {
    const price = this.options.priceTable.price(model);
    if (!price) throw new UnknownModelPriceError(model, this.options.priceTable.overriddenModels);
    return price;
  }

  costMicroUsd(model: string, usage: TokenUsage): number {
    return costMicroUsd(this.priceOf(model), usage);
  }

  /** The most a bare estimate of `tokens` can cost: all of them at the model's dearest rate. */
  worstCaseMicroUsd(model: string, tokens: number): number {
    return Math.ceil((tokens * dearestRate(this.priceOf(model))) / 1_000_000);
  }

  /** The most one request can cost: its prompt at the input rate, its output cap at the output rate. */
  requestWorstCaseMicroUsd(model: string, promptTokens: number, outputCap: number): number {
    return worstCaseMicroUsd(this.priceOf(model), promptTokens, outputCap);
  }

  /** How `model`'s prompts are counted: an OpenAI encoding (its name's, or its `pricing` entry's), else the UTF-8 bound. */
  tokenizerFor(model: string): PromptTokenizer {
    return promptTokenizerFor(model, this.encodingOf(model));
  }

  /** Loads the encoding `model` is counted with, if it has one; undefined when there is nothing to wait for. */
  prepareTokenizer(model: string): Promise<void> | undefined {
    const encoding = this.encodingOf(model);
    return encoding ? loadEncoding(encoding) : undefined;
  }

  /** Whether `model` is counted with one of OpenAI's encodings, that is, is (or is priced as) one of OpenAI's models. */
  isOpenAiModel(model: string): boolean {
    return this.encodingOf(model) !== undefined;
  }

  private encodingOf(model: string) {
    return this.options.priceTable.encoding(model) ?? encodingOf(model);
  }
}
