import { BadRequestException, Body, Controller, HttpCode, Module, ParseIntPipe, Post, Query } from '@nestjs/common';
import { type BudgetViewOptions, Guarded, Idempotent, ResilientLlmClient, ResilientLlmModule, type ResilientLlmModuleOptions } from '@resilient-llm/nestjs';

/** Handlers as a careful app writes them: they check their own input, so that a 500 can only come from below them. */
@Controller()
export class TicketsController {
  constructor(private readonly llm: ResilientLlmClient) {}

  @Post('tickets')
  @Idempotent()
  @Guarded(32)
  async create(@Body() body: unknown) {
    const subject = (body as { subject?: unknown } | undefined)?.subject;
    if (typeof subject !== 'string') throw new BadRequestException({ statusCode: 400, code: 'invalid_ticket', message: 'The body must be a JSON object with a "subject" string.' });
    const completion = await this.llm.createChatCompletion({ messages: [{ role: 'user', content: `Triage: ${subject}` }] });
    return { subject, triage: completion.choices[0].message.content };
  }

  @Post('tickets/required-key')
  @HttpCode(200)
  @Idempotent({ required: true })
  @Guarded(32)
  async requiredKey(@Query('priority', ParseIntPipe) priority: number) {
    return { priority };
  }
}

export function malformedRequestsModule(options: ResilientLlmModuleOptions, budgetView: boolean | BudgetViewOptions) {
  @Module({ imports: [ResilientLlmModule.forRoot({ ...options, budgetView })], controllers: [TicketsController] })
  class MalformedRequestsModule {}
  return MalformedRequestsModule;
}
