import { createOpenAI } from '@ai-sdk/openai';
import { BadRequestException, Body, Controller, HttpCode, Inject, Module, type PipeTransform, Post } from '@nestjs/common';
import { Guarded, ResilientLlmClient, ResilientLlmModule, type ResilientLlmModuleOptions } from '@resilient-llm/nestjs';
import { generateText } from 'ai';
import { DataSource, EntitySchema } from 'typeorm';
import { FLAT_PRICING } from './budget.app.js';

/** A row the handler writes before it calls the LLM: written twice, the unique id would refuse it. */
interface Note {
  id: string;
  text: string;
}

const NoteSchema = new EntitySchema<Note>({
  name: 'Note',
  tableName: 'note',
  columns: { id: { type: 'varchar', primary: true }, text: { type: 'varchar' } },
});

export const NOTES = 'NOTES_DATA_SOURCE';

/** Refuses a body without a non-empty `message` with a 400, as a validation pipe does. */
class MessagePipe implements PipeTransform<unknown, { message: string }> {
  transform(value: unknown): { message: string } {
    const message = (value as { message?: unknown } | undefined)?.message;
    if (typeof message !== 'string' || message.trim() === '') throw new BadRequestException({ statusCode: 400, code: 'invalid_request', message: 'message: must be a non-empty string' });
    return { message };
  }
}

/** Handlers that make several upstream requests, through every endpoint and SDK the transport serves. */
@Controller()
export class RequestRetryController {
  bodyRuns = 0;

  constructor(
    private readonly llm: ResilientLlmClient,
    @Inject(NOTES) private readonly notes: DataSource,
  ) {}

  @Post('two-calls')
  @HttpCode(200)
  @Guarded(64)
  async twoCalls() {
    this.bodyRuns++;
    const a = await this.llm.createChatCompletion({ messages: [{ role: 'user', content: 'Hello' }] });
    const b = await this.llm.createChatCompletion({ messages: [{ role: 'user', content: 'Hello again, in other words' }] });
    return { a: a.usage?.total_tokens, b: b.usage?.total_tokens };
  }

  @Post('notes')
  @HttpCode(200)
  @Guarded(64)
  async note(@Body(new MessagePipe()) body: { message: string }) {
    this.bodyRuns++;
    await this.notes.getRepository(NoteSchema).insert({ id: body.message, text: body.message });
    const completion = await this.llm.createChatCompletion({ messages: [{ role: 'user', content: body.message }] });
    return { reply: completion.choices[0].message.content, notes: await this.notes.getRepository(NoteSchema).count() };
  }

  @Post('responses')
  @HttpCode(200)
  @Guarded(64)
  async responses() {
    const response = await this.llm.openai.responses.create({ model: 'flat', input: 'Hello' });
    return { text: response.output_text, usage: response.usage };
  }

  @Post('responses-stream')
  @HttpCode(200)
  @Guarded(64)
  async responsesStream() {
    const events: string[] = [];
    let usage: unknown;
    for await (const event of await this.llm.openai.responses.create({ model: 'flat', input: 'Hello', stream: true })) {
      events.push(event.type);
      if (event.type === 'response.completed') usage = event.response.usage;
    }
    return { last: events.at(-1), usage };
  }

  @Post('embeddings')
  @HttpCode(200)
  @Guarded(64)
  async embeddings() {
    const result = await this.llm.openai.embeddings.create({ model: 'flat', input: ['Hello', 'world'] });
    return { vectors: result.data.length, usage: result.usage };
  }

  @Post('vercel')
  @HttpCode(200)
  @Guarded(64)
  async vercel() {
    const provider = createOpenAI({ apiKey: 'test', baseURL: this.llm.openai.baseURL, fetch: this.llm.fetch });
    const result = await generateText({ model: provider.chat('flat'), prompt: 'Hello', maxRetries: 0 });
    return { text: result.text, usage: result.usage };
  }
}

export function requestRetryModule(options: ResilientLlmModuleOptions) {
  @Module({
    imports: [ResilientLlmModule.forRoot({ defaultModel: 'flat', pricing: FLAT_PRICING, ...options })],
    controllers: [RequestRetryController],
    providers: [
      {
        provide: NOTES,
        useFactory: async () => new DataSource({ type: 'better-sqlite3', database: ':memory:', entities: [NoteSchema], synchronize: true }).initialize(),
      },
    ],
  })
  class RequestRetryModule {}
  return RequestRetryModule;
}
