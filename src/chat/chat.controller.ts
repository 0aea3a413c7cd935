import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { Guarded, Idempotent } from '@resilient-llm/nestjs';
import { type ChatRequest, ChatRequestPipe } from './chat-request.pipe.js';
import { type ChatReply, ChatService } from './chat.service.js';

@Controller('chat')
export class ChatController {
  constructor(private readonly chat: ChatService) {}

  @Post()
  @HttpCode(200)
  // An Idempotency-Key is optional here; when given, a repeat replays the first reply instead of paying again.
  @Idempotent()
  // Replies are capped at 512 tokens: each request's worst case is its prompt plus 512 output tokens, reserved before it is sent.
  @Guarded({ estimatedTokens: 1000, maxOutputTokens: 512 })
  reply(@Body(ChatRequestPipe) request: ChatRequest): Promise<ChatReply> {
    return this.chat.reply(request.message);
  }
}
