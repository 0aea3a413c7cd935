import { Body, Controller, HttpCode, Module, Post } from '@nestjs/common';
import { FaultUpstream } from '@app/fault-upstream';
import { BudgetGuard, Guarded, ResilientLlmClient, ResilientLlmModule, type ResilientLlmModuleOptions } from '@resilient-llm/nestjs';
import { HTTP_ADAPTERS, type TestApp, createTestApp } from './support/test-app.js';

/** Handlers that send requests with and without their own output cap. */
@Controller()
class CapController {
  constructor(private readonly llm: ResilientLlmClient) {}

  @Post('chat')
  @HttpCode(200)
  @Guarded({ estimatedTokens: 1 })
  async chat(@Body() body: { max_tokens?: number; message?: string }) {
    const completion = await this.llm.createChatCompletion({ messages: [{ role: 'user', content: body.message ?? 'Hello' }], max_tokens: body.max_tokens });
    return { usage: completion.usage, finishReason: completion.choices[0].finish_reason };
  }

  @Post('stream')
  @HttpCode(200)
  @Guarded({ estimatedTokens: 1 })
  async stream() {
    let deltas = 0;
    for await (const chunk of await this.llm.streamChatCompletion({ messages: [{ role: 'user', content: 'Hello' }] })) if (chunk.choices[0]?.delta.content) deltas++;
    return { deltas };
  }

  @Post('responses')
  @HttpCode(200)
  @Guarded({ estimatedTokens: 1, maxOutputTokens: 5 })
  async responses() {
    const response = await this.llm.openai.responses.create({ model: 'gpt-4o-mini', input: 'Hello' });
    return { maxOutputTokens: response.max_output_tokens, status: response.status, usage: response.usage };
  }
}

function capModule(options: ResilientLlmModuleOptions) {
  @Module({ imports: [ResilientLlmModule.forRoot(options)], controllers: [CapController] })
  class CapModule {}
  return CapModule;
}

describe.each(HTTP_ADAPTERS)('no request is unbounded, and its worst case is exact, on %s', (adapter) => {
  let upstream: FaultUpstream;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    // 24 output tokens unless a request caps them lower.
    upstream = await FaultUpstream.start({ faults: { completionTokens: 24 } });
  });
  afterAll(async () => {
    for (const app of apps) await app.app.close();
    await upstream.stop();
  });
  beforeEach(() => upstream.resetStats());

  async function boot(options: Partial<ResilientLlmModuleOptions> = {}) {
    const app = await createTestApp(
      {
        imports: [
          capModule({
            client: { apiKey: 'test', baseURL: upstream.baseURL },
            defaultModel: 'gpt-4o-mini',
            defaultMaxOutputTokens: 10,
            budget: { limits: { dailyUsd: 1 } },
            storage: { database: ':memory:' },
            ...options,
          }),
        ],
      },
      undefined,
      adapter,
    );
    apps.push(app);
    return app;
  }

  it('sets max_completion_tokens on a chat request that has no cap, and the upstream honours it', async () => {
    const app = await boot();
    const response = await app.http().post('/chat').send({}).expect(200);
    expect(response.body).toEqual({ usage: expect.objectContaining({ prompt_tokens: 8, completion_tokens: 10 }), finishReason: 'length' });
    expect(upstream.stats().servedTokens).toEqual({ input: 8, output: 10 });
  });

  it("keeps a caller's max_tokens as it is, adding no other cap", async () => {
    const app = await boot();
    // Had max_completion_tokens (10) been added, the upstream would have used it first.
    const response = await app.http().post('/chat').send({ max_tokens: 20 }).expect(200);
    expect(response.body.usage).toMatchObject({ completion_tokens: 20 });
  });

  it('caps a stream too: what the upstream streamed stops at the cap', async () => {
    const app = await boot();
    expect((await app.http().post('/stream').expect(200)).body).toEqual({ deltas: 10 });
  });

  it("sets max_output_tokens on a Responses request from the handler's @Guarded({ maxOutputTokens })", async () => {
    const app = await boot();
    const response = await app.http().post('/responses').expect(200);
    expect(response.body).toMatchObject({ maxOutputTokens: 5, status: 'incomplete', usage: { input_tokens: 7, output_tokens: 5 } });
  });

  it('reserves the exact worst case: prompt tokens at the input price, the cap at the output price', async () => {
    // gpt-4o-mini: "Hello" is 8 prompt tokens (o200k_base, as the upstream counts too) x $0.15 + 10 x $0.60 = 7.2 micro-dollars, 8 rounded up.
    const tight = await boot({ budget: { limits: { dailyUsd: 7 / 1_000_000 } } });
    const refused = await tight.http().post('/chat').send({}).expect(429);
    expect(refused.body).toMatchObject({ code: 'budget_exhausted' });
    expect(upstream.stats().totalRequests).toBe(0);

    const enough = await boot({ budget: { limits: { dailyUsd: 8 / 1_000_000 } } });
    await enough.http().post('/chat').send({}).expect(200);
    // It cost what it was reserved for: 8 x 0.15 + 10 x 0.6, rounded up.
    expect((await enough.app.get(BudgetGuard).status()).windows[0]).toMatchObject({ spentMicroUsd: 8, reservedMicroUsd: 0 });
  });

  it('prices a longer prompt by its tokens, not its characters', async () => {
    // 7 000 characters, 1 001 tokens in o200k_base (3 + 3 + 1 for the frame and role: 1 008): 1 008 x $0.15 + 1 x $0.60 = 151.8,
    // 152 micro-dollars; characters / 3 (2 334 tokens) would have needed 351.
    const message = 'budget '.repeat(1_000);
    const refused = await boot({ budget: { limits: { dailyUsd: 151 / 1_000_000 } } });
    await refused.http().post('/chat').send({ message, max_tokens: 1 }).expect(429);
    expect(upstream.stats().totalRequests).toBe(0);
    const app = await boot({ budget: { limits: { dailyUsd: 152 / 1_000_000 } } });
    await app.http().post('/chat').send({ message, max_tokens: 1 }).expect(200);
    expect(upstream.stats().totalRequests).toBe(1);
  });
});
