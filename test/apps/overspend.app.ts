import { Body, Controller, HttpCode, Module, Post } from '@nestjs/common';
import { Guarded, ResilientLlmClient, ResilientLlmModule, type ResilientLlmModuleOptions } from '@resilient-llm/nestjs';
import { FLAT_PRICING } from './budget.app.js';

/** The example's shape: a guarded handler that sends the caller's message, with or without its own reply cap. */
@Controller()
export class OverspendController {
  constructor(private readonly llm: ResilientLlmClient) {}

  @Post('ask')
  @HttpCode(200)
  @Guarded(1_000)
  async ask(@Body() body: { message: string; maxTokens?: number }) {
    const completion = await this.llm.createChatCompletion({
      messages: [{ role: 'user', content: body.message }],
      ...(body.maxTokens !== undefined && { max_tokens: body.maxTokens }),
    });
    return { usage: completion.usage };
  }
}

export function overspendModule(options: ResilientLlmModuleOptions) {
  @Module({
    imports: [ResilientLlmModule.forRoot({ defaultModel: 'flat', pricing: FLAT_PRICING, ...options })],
    controllers: [OverspendController],
  })
  class OverspendModule {}
  return OverspendModule;
}
