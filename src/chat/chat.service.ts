import { Injectable } from '@nestjs/common';
import { LlmPricing, ResilientLlmClient, currentGuardedCall, microUsdToUsd } from '@resilient-llm/nestjs';

export interface ChatReply {
  reply: string;
  model: string;
  usage: { inputTokens: number; outputTokens: number };
  costUsd: number;
  /** Attempts the guarded call needed, this successful one included. */
  attempts: number;
}

@Injectable()
export class ChatService {
  constructor(
    private readonly llm: ResilientLlmClient,
    private readonly pricing: LlmPricing,
  ) {}

  async reply(message: string): Promise<ChatReply> {
    const completion = await this.llm.createChatCompletion({ messages: [{ role: 'user', content: message }] });
    const call = currentGuardedCall();
    const model = call?.settings.model ?? completion.model;
    const usage = { inputTokens: completion.usage?.prompt_tokens ?? 0, outputTokens: completion.usage?.completion_tokens ?? 0 };
    return {
      reply: completion.choices[0]?.message.content ?? '',
      model: completion.model,
      usage,
      costUsd: microUsdToUsd(this.pricing.costMicroUsd(model, usage)),
      attempts: call?.attempt ?? 1,
    };
  }
}
