import { Controller, HttpCode, Injectable, Module, Post } from '@nestjs/common';
import { Guarded, ResilientLlmClient, ResilientLlmModule, type ResilientLlmModuleOptions } from '@resilient-llm/nestjs';
import { FLAT_PRICING, REPLY_TOKENS, TOKENS_PER_CALL } from './budget.app.js';

const messages = [{ role: 'user' as const, content: 'Hello' }];

/** Holds a handler between its two requests until the test opens it: the test decides what happens meanwhile. */
@Injectable()
export class Gate {
  private opened!: () => void;
  private closed = new Promise<void>((resolve) => (this.opened = resolve));
  reached = false;

  async pass(): Promise<void> {
    this.reached = true;
    await this.closed;
  }

  open(): void {
    this.opened();
  }
}

@Controller()
export class LeaseController {
  constructor(
    private readonly llm: ResilientLlmClient,
    private readonly gate: Gate,
  ) {}

  /** One call, two requests of 32 micro-dollars at worst, the gate between them. */
  @Post('two-requests')
  @HttpCode(200)
  @Guarded(2 * TOKENS_PER_CALL)
  async twoRequests() {
    await this.llm.createChatCompletion({ messages });
    await this.gate.pass();
    await this.llm.createChatCompletion({ messages });
    return { requests: 2 };
  }

  @Post('ask')
  @HttpCode(200)
  @Guarded(TOKENS_PER_CALL)
  async ask() {
    await this.llm.createChatCompletion({ messages });
    return { requests: 1 };
  }
}

/** 'flat' pricing (a token is a micro-dollar), every reply capped at 24 tokens: a request costs 32 at worst and exactly. */
export function leaseModule(options: ResilientLlmModuleOptions) {
  @Module({
    imports: [ResilientLlmModule.forRoot({ defaultModel: 'flat', pricing: FLAT_PRICING, defaultMaxOutputTokens: REPLY_TOKENS, ...options })],
    controllers: [LeaseController],
    providers: [Gate],
  })
  class LeaseModule {}
  return LeaseModule;
}
