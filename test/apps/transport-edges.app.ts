import { Controller, HttpCode, Module, Post } from '@nestjs/common';
import { Guarded, ResilientLlmClient, ResilientLlmModule, type ResilientLlmModuleOptions } from '@resilient-llm/nestjs';
import { FLAT_PRICING } from './budget.app.js';

/** Handlers that reach endpoints the transport has no adapter for, or answers with no JSON body. */
@Controller()
export class TransportEdgesController {
  bodyRuns = 0;

  constructor(private readonly llm: ResilientLlmClient) {}

  @Post('moderation')
  @HttpCode(200)
  @Guarded(100)
  async moderation() {
    const response = await this.llm.fetch(`${this.llm.openai.baseURL}/moderations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":"hi"}' });
    return { status: response.status, body: await response.json() };
  }

  @Post('delete-file')
  @HttpCode(200)
  @Guarded(100)
  async deleteFile() {
    const response = await this.llm.fetch(`${this.llm.openai.baseURL}/files/file-1`, { method: 'DELETE' });
    return { status: response.status };
  }

  @Post('file-content')
  @HttpCode(200)
  @Guarded(100)
  async fileContent() {
    const response = await this.llm.openai.files.content('file-1');
    return { bytes: [...new Uint8Array(await response.arrayBuffer())] };
  }

  @Post('stalled-stream')
  @HttpCode(200)
  @Guarded(100)
  async stalledStream() {
    let chunks = 0;
    for await (const chunk of await this.llm.streamChatCompletion({ messages: [{ role: 'user', content: 'Hello' }] })) {
      void chunk;
      chunks++;
    }
    return { chunks };
  }

  @Post('chat-stream')
  @HttpCode(200)
  @Guarded(100)
  async chatStream() {
    let text = '';
    for await (const chunk of await this.llm.streamChatCompletion({ messages: [{ role: 'user', content: 'Hello' }] })) text += chunk.choices[0]?.delta.content ?? '';
    return { text };
  }

  @Post('fire-and-forget')
  @HttpCode(202)
  @Guarded(100)
  fireAndForget() {
    // Sent after the handler has answered, still inside its (then ended) guarded call's async context.
    setTimeout(() => void this.llm.createChatCompletion({ messages: [{ role: 'user', content: 'Hello' }] }).catch(() => undefined), 0);
    return { accepted: true };
  }

  @Post('handler-retry')
  @HttpCode(200)
  @Guarded({ estimatedTokens: 100, retry: 'handler' })
  async handlerRetry() {
    this.bodyRuns++;
    await this.llm.createChatCompletion({ messages: [{ role: 'user', content: 'Hello' }] });
    return { runs: this.bodyRuns };
  }
}

/** A route a base controller declares, guarded by the class decorator of the one that extends it. */
class BaseReportController {
  bodyRuns = 0;

  @Post()
  @HttpCode(200)
  async report() {
    this.bodyRuns++;
    return { ran: true };
  }
}

@Guarded(1_000)
@Controller('inherited')
export class InheritedReportController extends BaseReportController {}

export function transportEdgesModule(options: ResilientLlmModuleOptions) {
  @Module({
    imports: [ResilientLlmModule.forRoot({ defaultModel: 'flat', pricing: FLAT_PRICING, ...options })],
    controllers: [TransportEdgesController, InheritedReportController],
  })
  class TransportEdgesModule {}
  return TransportEdgesModule;
}
