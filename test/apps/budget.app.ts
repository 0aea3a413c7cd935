import { Controller, HttpCode, Module, Post } from '@nestjs/common';
import { type BudgetViewOptions, Guarded, ResilientLlmClient, ResilientLlmModule, type ResilientLlmModuleOptions } from '@resilient-llm/nestjs';

/** 'Hello' is 8 prompt tokens at the fault upstream and a reply is 24: 32 tokens, 32 micro-dollars at $1/MTok. */
export const TOKENS_PER_CALL = 32;
export const FLAT_PRICING = {
  flat: { inputUsdPerMTok: 1, outputUsdPerMTok: 1 },
  'flat-cheap': { inputUsdPerMTok: 0.5, outputUsdPerMTok: 0.5 },
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
    imports: [ResilientLlmModule.forRoot({ defaultModel: 'flat', pricing: FLAT_PRICING, ...options, ...extras })],
    controllers: [AskController],
  })
  class BudgetModule {}
  return BudgetModule;
}
