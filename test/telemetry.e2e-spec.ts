import { FaultUpstream } from '@app/fault-upstream';
import { Controller, HttpCode, Module, Post } from '@nestjs/common';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { Guarded, Idempotent, ResilientLlmClient, ResilientLlmModule, type ResilientLlmModuleOptions } from '@resilient-llm/nestjs';
import { FLAT_PRICING, REPLY_TOKENS, TOKENS_PER_CALL } from './apps/budget.app.js';
import { installTestTelemetry, metricValue, shape, spanTrees } from './support/telemetry.js';
import { HTTP_ADAPTERS, type TestApp, createTestApp } from './support/test-app.js';

const telemetry = installTestTelemetry();

@Controller()
class TracedController {
  constructor(private readonly llm: ResilientLlmClient) {}

  @Post('ask')
  @HttpCode(200)
  @Idempotent()
  @Guarded({ estimatedTokens: TOKENS_PER_CALL })
  async ask() {
    return (await this.llm.createChatCompletion({ messages: [{ role: 'user', content: 'Hello' }] })).id;
  }
}

describe.each(HTTP_ADAPTERS)('span trees and metrics of guarded calls on %s', (adapter) => {
  let upstream: FaultUpstream;
  let testApp: TestApp;

  async function boot(options: ResilientLlmModuleOptions = {}) {
    @Module({
      imports: [
        ResilientLlmModule.forRoot({
          client: { apiKey: 'sk-secret-never-traced', baseURL: upstream.baseURL },
          defaultModel: 'flat',
          pricing: FLAT_PRICING,
          defaultMaxOutputTokens: REPLY_TOKENS,
          backoff: { strategy: 'exponential', baseMs: 100, capMs: 1_000, maxAttempts: 3 },
          storage: { database: ':memory:' },
          ...options,
        }),
      ],
      controllers: [TracedController],
    })
    class TracedModule {}
    testApp = await createTestApp({ imports: [TracedModule] }, undefined, adapter);
  }

  beforeEach(async () => {
    upstream = await FaultUpstream.start();
    telemetry.spans.reset();
  });
  afterEach(async () => {
    await testApp.app.close();
    await upstream.stop();
  });

  const trees = async () => spanTrees(await telemetry.finishedSpans());

  it('a clean call: one call span with one attempt span carrying the GenAI attributes', async () => {
    await boot();
    const response = await testApp.http().post('/ask').expect(200);
    const [call] = await trees();
    expect((await trees()).map(shape)).toEqual([['resilient_llm.call', [['resilient_llm.attempt', []]]]]);
    expect(call.attributes).toMatchObject({
      'resilient_llm.component': 'resilient-llm',
      'resilient_llm.outcome': 'success',
      'resilient_llm.attempts': 1,
      'resilient_llm.cost.micro_usd': 32,
      'gen_ai.request.model': 'flat',
    });
    expect(call.status).toBe(SpanStatusCode.UNSET);
    const [attempt] = call.children;
    expect(attempt.kind).toBe(SpanKind.CLIENT);
    expect(attempt.attributes).toEqual({
      'resilient_llm.component': 'resilient-llm',
      'resilient_llm.attempt': 1,
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'flat',
      'gen_ai.response.model': 'flat',
      'gen_ai.response.id': response.text,
      'gen_ai.usage.input_tokens': 8,
      'gen_ai.usage.output_tokens': 24,
    });
  });

  it('503 -> 503 -> 200: 3 attempts and 2 backoff spans as long as the injected delays', async () => {
    await boot();
    upstream.setFaults({ sequence: ['503', '503', 'ok'] });
    await testApp.http().post('/ask').expect(200);
    const [call] = await trees();
    expect(shape(call)).toEqual([
      'resilient_llm.call',
      [
        ['resilient_llm.attempt', []],
        ['resilient_llm.backoff', []],
        ['resilient_llm.attempt', []],
        ['resilient_llm.backoff', []],
        ['resilient_llm.attempt', []],
      ],
    ]);
    const [first, firstBackoff, second, secondBackoff, third] = call.children;
    expect(testApp.clock.sleeps).toEqual([100, 200]);
    expect([firstBackoff.durationMs, secondBackoff.durationMs]).toEqual([100, 200]);
    expect(firstBackoff.attributes).toMatchObject({ 'resilient_llm.backoff.delay_ms': 100, 'resilient_llm.backoff.source': 'computed', 'resilient_llm.backoff.strategy': 'exponential' });
    for (const failed of [first, second]) {
      expect(failed.status).toBe(SpanStatusCode.ERROR);
      expect(failed.attributes).toMatchObject({ 'error.type': '503', 'http.response.status_code': 503, 'resilient_llm.retryable': true });
    }
    expect(first.attributes['http.request.resend_count']).toBeUndefined();
    expect(second.attributes['http.request.resend_count']).toBe(1);
    expect(third.attributes).toMatchObject({ 'http.request.resend_count': 2, 'gen_ai.usage.output_tokens': 24 });
    expect(third.status).toBe(SpanStatusCode.UNSET);
    expect(call.attributes).toMatchObject({ 'resilient_llm.attempts': 3, 'resilient_llm.outcome': 'success' });
  });

  it("a 429 with Retry-After: the backoff's source is the server's, and it lasts what it asked", async () => {
    await boot();
    upstream.setFaults({ sequence: ['429:retry-after=2', 'ok'] });
    await testApp.http().post('/ask').expect(200);
    const backoff = (await trees())[0].children[1];
    expect(backoff).toMatchObject({ name: 'resilient_llm.backoff', durationMs: 2_000 });
    expect(backoff.attributes).toMatchObject({ 'resilient_llm.backoff.source': 'retry-after', 'resilient_llm.backoff.delay_ms': 2_000 });
  });

  it('a budget rejection: no attempt spans, an event on the root, status ERROR', async () => {
    await boot({ budget: { limits: { dailyUsd: (TOKENS_PER_CALL * 1.5) / 1_000_000 } } });
    await testApp.http().post('/ask').expect(200);
    telemetry.spans.reset();
    await testApp.http().post('/ask').expect(429);
    const [call] = await trees();
    expect(shape(call)).toEqual(['resilient_llm.call', []]);
    expect(call.status).toBe(SpanStatusCode.ERROR);
    expect(call.attributes).toMatchObject({ 'resilient_llm.outcome': 'budget_rejected', 'resilient_llm.attempts': 0, 'error.type': 'budget_exhausted' });
    expect(call.events).toEqual([
      {
        name: 'resilient_llm.budget.rejected',
        attributes: {
          'resilient_llm.budget.status': 'exhausted',
          'resilient_llm.budget.window': 'global/daily',
          'resilient_llm.budget.limit_micro_usd': 48,
          'resilient_llm.budget.spent_micro_usd': 32,
          'resilient_llm.budget.reserved_micro_usd': 0,
          'resilient_llm.budget.requested_micro_usd': 32,
        },
      },
    ]);
    expect(upstream.stats().totalRequests).toBe(1);
  });

  it('budget state at reserve and at settle, on the root span', async () => {
    await boot({ budget: { limits: { dailyUsd: (TOKENS_PER_CALL * 4) / 1_000_000 } } });
    await testApp.http().post('/ask').expect(200);
    const [call] = await trees();
    expect(call.attributes).toMatchObject({ 'resilient_llm.budget.status': 'healthy', 'resilient_llm.budget.reserved_micro_usd': 32, 'resilient_llm.budget.ratio': 0.25 });
    expect(call.events.map((event) => [event.name, event.attributes['resilient_llm.budget.spent_micro_usd'], event.attributes['resilient_llm.budget.reserved_micro_usd']])).toEqual([
      ['resilient_llm.budget.reserved', 0, 32],
      ['resilient_llm.budget.settled', 32, 0],
    ]);
  });

  it('an idempotent replay: an idempotency span with outcome hit, and no call span', async () => {
    await boot();
    await testApp.http().post('/ask').set('Idempotency-Key', 'trace-1').expect(200);
    expect((await trees()).map(shape)).toEqual([['resilient_llm.idempotency', [['resilient_llm.call', [['resilient_llm.attempt', []]]]]]]);
    expect((await trees())[0].attributes['resilient_llm.idempotency.outcome']).toBe('miss');
    telemetry.spans.reset();

    await testApp.http().post('/ask').set('Idempotency-Key', 'trace-1').expect(200);
    const [replay] = await trees();
    expect(shape(replay)).toEqual(['resilient_llm.idempotency', []]);
    expect(replay.attributes['resilient_llm.idempotency.outcome']).toBe('hit');
    expect(replay.events).toEqual([{ name: 'resilient_llm.idempotency', attributes: { 'resilient_llm.idempotency.outcome': 'hit' } }]);
  });

  it('never puts the API key or the prompt on a span unless content capture is on', async () => {
    await boot();
    upstream.setFaults({ sequence: ['401'] });
    await testApp.http().post('/ask').expect(502);
    const everything = JSON.stringify((await telemetry.finishedSpans()).map((span) => [span.attributes, span.events, span.status]));
    expect(everything).not.toMatch(/sk-|Hello|Incorrect API key/);
    await testApp.app.close();

    telemetry.spans.reset();
    await boot({ telemetry: { captureContent: true } });
    await testApp.http().post('/ask').expect(200);
    const attempt = (await trees())[0].children[0];
    expect(JSON.parse(attempt.attributes['gen_ai.input.messages'] as string)).toEqual([{ role: 'user', content: 'Hello' }]);
  });

  it('counts calls, attempts, retries, rejections and cost; records backoff delays; gauges budget ratios', async () => {
    await boot({ budget: { limits: { dailyUsd: (TOKENS_PER_CALL * 2.5) / 1_000_000 } } });
    const before = await telemetry.metrics();
    const count = (name: string, attributes?: Record<string, unknown>) => metricValue(before, name, attributes);
    const baseline = {
      calls: count('resilient_llm.calls'),
      rejectedCalls: count('resilient_llm.calls', { 'resilient_llm.outcome': 'budget_rejected' }),
      retries: count('resilient_llm.retries'),
      rejections: count('resilient_llm.budget.rejections'),
      backoffs: count('resilient_llm.backoff.delay'),
      cost: count('resilient_llm.cost'),
      outputTokens: count('gen_ai.client.token.usage', { 'gen_ai.token.type': 'output' }),
    };

    upstream.setFaults({ sequence: ['503', 'ok'] });
    await testApp.http().post('/ask').expect(200);
    await testApp.http().post('/ask').expect(200);
    await testApp.http().post('/ask').expect(429);

    const after = await telemetry.metrics();
    expect(metricValue(after, 'resilient_llm.calls') - baseline.calls).toBe(3);
    expect(metricValue(after, 'resilient_llm.calls', { 'resilient_llm.outcome': 'budget_rejected' }) - baseline.rejectedCalls).toBe(1);
    expect(metricValue(after, 'resilient_llm.retries') - baseline.retries).toBe(1);
    expect(metricValue(after, 'resilient_llm.budget.rejections') - baseline.rejections).toBe(1);
    // One backoff (the 503), two completions of 32 micro-dollars each, 24 output tokens a completion (counted as 2 records).
    expect(metricValue(after, 'resilient_llm.backoff.delay') - baseline.backoffs).toBe(1);
    expect(metricValue(after, 'resilient_llm.cost') - baseline.cost).toBe(64);
    expect(metricValue(after, 'gen_ai.client.token.usage', { 'gen_ai.token.type': 'output' }) - baseline.outputTokens).toBe(2);
    expect(metricValue(after, 'resilient_llm.budget.ratio', { 'resilient_llm.scope': 'global', 'resilient_llm.budget.window': 'daily' })).toBeCloseTo(0.8);
  });
});
