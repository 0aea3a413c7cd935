import { Controller, HttpCode, Module, Post } from '@nestjs/common';
import { Guarded, ResilientLlmClient, ResilientLlmModule, type ResilientLlmModuleOptions } from '@resilient-llm/nestjs';
import { FLAT_PRICING, REPLY_TOKENS, TOKENS_PER_CALL } from './budget.app.js';

const messages = [{ role: 'user' as const, content: 'Hello' }];

@Controller()
export class StreamingController {
  constructor(private readonly llm: ResilientLlmClient) {}

  @Post('stream')
  @HttpCode(200)
  @Guarded(TOKENS_PER_CALL)
  async stream() {
    let text = '';
    for await (const chunk of await this.llm.streamChatCompletion({ messages })) text += chunk.choices[0]?.delta.content ?? '';
    return { words: text.split(' ').length };
  }

  /** Four LLM requests at once inside one guarded call. */
  @Post('parallel')
  @HttpCode(200)
  @Guarded(TOKENS_PER_CALL)
  async parallel() {
    const replies = await Promise.all(Array.from({ length: 4 }, () => this.llm.createChatCompletion({ messages })));
    return { replies: replies.length };
  }
}

export function streamingModule(options: ResilientLlmModuleOptions) {
  @Module({
    imports: [ResilientLlmModule.forRoot({ defaultModel: 'flat', pricing: FLAT_PRICING, defaultMaxOutputTokens: REPLY_TOKENS, storage: { database: ':memory:' }, ...options })],
    controllers: [StreamingController],
  })
  class StreamingModule {}
  return StreamingModule;
}
