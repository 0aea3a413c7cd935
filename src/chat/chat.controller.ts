import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { Guarded } from '@resilient-llm/nestjs';
import { type ChatRequest, ChatRequestPipe } from './chat-request.pipe.js';
import { type ChatReply, ChatService } from './chat.service.js';

@Controller('chat')
export class ChatController {
  constructor(private readonly chat: ChatService) {}

  @Post()
  @HttpCode(200)
  @Guarded({ estimatedTokens: 1000 })
  reply(@Body(ChatRequestPipe) request: ChatRequest): Promise<ChatReply> {
    return this.chat.reply(request.message);
  }
}
