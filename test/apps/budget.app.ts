import { Controller, HttpCode, Module, Post } from '@nestjs/common';
import { type BudgetViewOptions, Guarded, ResilientLlmClient, ResilientLlmModule, type ResilientLlmModuleOptions } from '@resilient-llm/nestjs';

/**
 * 'Hello' is 8 prompt tokens at the fault upstream (and in o200k_base) and a reply is 24: 32 tokens, 32
 * micro-dollars at $1/MTok. With REPLY_TOKENS as the output cap, a call's exact worst case is 32 too.
 */
export const TOKENS_PER_CALL = 32;
export const REPLY_TOKENS = 24;
export const FLAT_PRICING = {
  flat: { inputUsdPerMTok: 1, outputUsdPerMTok: 1, encoding: 'o200k_base' as const },
  'flat-cheap': { inputUsdPerMTok: 0.5, outputUsdPerMTok: 0.5, encoding: 'o200k_base' as const },
};

@Controller()
export class AskController {
  constructor(private readonly llm: ResilientLlmClient) {}

  @Post('ask')
  @HttpCode(200)
  @Guarded({ estimatedTokens: TOKENS_PER_CALL })
  async ask() {
    const completion = await this.llm.createChatCompletion({ messages: [{ role: 'user', content: 'Hello' }] });
    return { model: completion.model, usage: completion.usage };
  }
}

export function budgetModule(options: ResilientLlmModuleOptions, extras: { budgetView?: boolean | BudgetViewOptions } = {}) {
  @Module({
    imports: [ResilientLlmModule.forRoot({ defaultModel: 'flat', pricing: FLAT_PRICING, defaultMaxOutputTokens: REPLY_TOKENS, ...options, ...extras })],
    controllers: [AskController],
  })
  class BudgetModule {}
  return BudgetModule;
}
