import { Injectable } from '@nestjs/common';
import { LlmPricing, ResilientLlmClient, currentGuardedCall, microUsdToUsd } from '@resilient-llm/nestjs';

export interface ChatReply {
  reply: string;
  model: string;
  usage: { inputTokens: number; outputTokens: number };
  costUsd: number;
  /** Upstream attempts the guarded call needed, this successful one included. */
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
    // What the client recorded for this completion: the model it sent, and its usage priced.
    const recorded = call?.completions.at(-1);
    const usage = recorded
      ? { inputTokens: recorded.inputTokens, outputTokens: recorded.outputTokens }
      : { inputTokens: completion.usage?.prompt_tokens ?? 0, outputTokens: completion.usage?.completion_tokens ?? 0 };
    return {
      reply: completion.choices[0]?.message.content ?? '',
      model: completion.model,
      usage,
      costUsd: microUsdToUsd(recorded?.costMicroUsd ?? this.pricing.costMicroUsd(completion.model, usage)),
      attempts: call?.attempts.length ?? 1,
    };
  }
}
