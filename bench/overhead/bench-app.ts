import 'reflect-metadata';
import { Controller, HttpCode, Inject, Module, Post } from '@nestjs/common';
import { Guarded, Idempotent, ResilientLlmClient, ResilientLlmModule, type ResilientLlmModuleOptions } from '@resilient-llm/nestjs';
import OpenAI from 'openai';

const RAW_SDK = 'BENCH:RAW_SDK';
const messages = [{ role: 'user' as const, content: 'Hello' }];

/** The example's chat handler three ways: the bare SDK, guarded, and idempotent plus guarded. */
@Controller()
class OverheadController {
  constructor(
    private readonly llm: ResilientLlmClient,
    @Inject(RAW_SDK) private readonly raw: OpenAI,
  ) {}

  @Post('plain')
  @HttpCode(200)
  async plain() {
    const completion = await this.raw.chat.completions.create({ model: 'gpt-4o-mini', messages });
    return { reply: completion.choices[0].message.content, usage: completion.usage };
  }

  @Post('guarded')
  @HttpCode(200)
  @Guarded(1_000)
  async guarded() {
    const completion = await this.llm.createChatCompletion({ messages });
    return { reply: completion.choices[0].message.content, usage: completion.usage };
  }

  @Post('idempotent')
  @HttpCode(200)
  @Idempotent()
  @Guarded(1_000)
  async idempotent() {
    const completion = await this.llm.createChatCompletion({ messages });
    return { reply: completion.choices[0].message.content, usage: completion.usage };
  }
}

export function overheadModule(baseURL: string, options: ResilientLlmModuleOptions) {
  @Module({
    imports: [ResilientLlmModule.forRoot({ client: { apiKey: 'bench', baseURL }, storage: { database: ':memory:' }, ...options })],
    controllers: [OverheadController],
    providers: [{ provide: RAW_SDK, useValue: new OpenAI({ apiKey: 'bench', baseURL, maxRetries: 0 }) }],
  })
  class OverheadModule {}
  return OverheadModule;
}
