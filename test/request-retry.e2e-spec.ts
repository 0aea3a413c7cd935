import { FaultUpstream } from '@app/fault-upstream';
import { BudgetGuard, type ResilientLlmModuleOptions, StormControl } from '@resilient-llm/nestjs';
import { ResilientLlmStorageHolder } from '../libs/resilient-llm/src/storage/storage-holder.js';
import { ManualClock } from '@resilient-llm/nestjs/testing';
import { RequestRetryController, requestRetryModule } from './apps/request-retry.app.js';
import { HTTP_ADAPTERS, type TestApp, createTestApp } from './support/test-app.js';
import { type SpanNode, installTestTelemetry, spanTrees } from './support/telemetry.js';

const telemetry = installTestTelemetry();

describe.each(HTTP_ADAPTERS)('retry the request, never the handler, on %s', (adapter) => {
  let upstream: FaultUpstream;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    upstream = await FaultUpstream.start();
  });
  afterAll(async () => {
    for (const app of apps) await app.app.close();
    await upstream.stop();
  });
  beforeEach(() => {
    upstream.resetStats();
    upstream.setFaults({});
    telemetry.spans.reset();
  });

  async function boot(options: ResilientLlmModuleOptions = {}) {
    const app = await createTestApp({
      imports: [
        requestRetryModule({
          client: { apiKey: 'test', baseURL: upstream.baseURL, attemptTimeoutMs: 1_000 },
          backoff: { strategy: 'exponential', baseMs: 100, capMs: 1_000, maxAttempts: 3, deadlineMs: 30_000 },
          budget: { limits: { dailyUsd: 1 } },
          storage: { database: ':memory:' },
          ...options,
        }),
      ],
    }, new ManualClock(), adapter);
    apps.push(app);
    return { ...app, controller: app.app.get(RequestRetryController), guard: app.app.get(BudgetGuard) };
  }

  const window = async (guard: BudgetGuard) => (await guard.status()).windows[0];
  const callTree = async (): Promise<SpanNode> => {
    const roots = spanTrees(await telemetry.finishedSpans()).filter((root) => root.name === 'resilient_llm.call');
    expect(roots).toHaveLength(1);
    return roots[0];
  };
  const names = (node: SpanNode) => node.children.map((child) => child.name);

  describe('a handler that calls the LLM twice', () => {
    let app: Awaited<ReturnType<typeof boot>>;
    beforeAll(async () => {
      app = await boot();
    });
    beforeEach(() => {
      app.controller.bodyRuns = 0;
      app.app.get(StormControl).reset();
      app.clock.sleeps.length = 0;
    });

    it('retries only the request that failed: A is billed once, the handler runs once', async () => {
      upstream.setFaults({ sequence: ['ok', '503', 'ok'] });
      const before = await window(app.guard);
      const response = await app.http().post('/two-calls').expect(200);
      expect(upstream.stats().totalRequests).toBe(3);
      expect(app.controller.bodyRuns).toBe(1);
      const after = await window(app.guard);
      expect(after.spentMicroUsd - before.spentMicroUsd).toBe(response.body.a + response.body.b);
      expect(after.wasteMicroUsd - before.wasteMicroUsd).toBe(0);
      expect(after.reservedMicroUsd).toBe(0);
      expect(app.clock.sleeps).toEqual([100]);
    });

    it('gives each request its own upstream Idempotency-Key, kept on its retries', async () => {
      upstream.setFaults({ sequence: ['ok', '503', 'ok'] });
      await app.http().post('/two-calls').expect(200);
      const counts = Object.values(upstream.stats().idempotencyKeys).sort();
      expect(counts).toEqual([1, 2]);
    });

    it('a row written before the LLM call is written once though the call is retried', async () => {
      upstream.setFaults({ sequence: ['503', 'ok'] });
      const response = await app.http().post('/notes').send({ message: 'note-1' }).expect(200);
      expect(response.body.notes).toBe(1);
      expect(upstream.stats().totalRequests).toBe(2);
      expect(app.controller.bodyRuns).toBe(1);
    });
  });

  describe('every endpoint of the SDK, and other SDKs, through the guarded fetch', () => {
    let app: Awaited<ReturnType<typeof boot>>;
    beforeAll(async () => {
      app = await boot();
    });
    beforeEach(() => {
      app.app.get(StormControl).reset();
      app.clock.sleeps.length = 0;
    });

    async function expectRetriedAndPriced(path: string, upstreamPath: string, operation: string, billed: (body: Record<string, any>) => number) {
      upstream.setFaults({ sequence: ['503', 'ok'] });
      const before = await window(app.guard);
      const response = await app.http().post(path).expect(200);
      expect(upstream.stats().byPath[upstreamPath]).toBe(2);
      const after = await window(app.guard);
      expect(after.spentMicroUsd - before.spentMicroUsd).toBe(billed(response.body));
      expect(after.reservedMicroUsd).toBe(0);
      const call = await callTree();
      expect(names(call)).toEqual(['resilient_llm.attempt', 'resilient_llm.backoff', 'resilient_llm.attempt']);
      const [first, backoff, second] = call.children;
      expect(first.attributes).toMatchObject({ 'gen_ai.operation.name': operation, 'http.response.status_code': 503 });
      expect(backoff.attributes).toMatchObject({ 'resilient_llm.backoff.delay_ms': 100 });
      expect(second.attributes).toMatchObject({ 'gen_ai.operation.name': operation, 'http.request.resend_count': 1 });
      return { response, second };
    }

    it('llm.openai.responses.create, plain', async () => {
      const { response, second } = await expectRetriedAndPriced('/responses', '/v1/responses', 'chat', (body) => body.usage.input_tokens + body.usage.output_tokens);
      expect(response.body.text).not.toBe('');
      expect(second.attributes['gen_ai.usage.output_tokens']).toBe(response.body.usage.output_tokens);
    });

    it('llm.openai.responses.create, streamed: priced from response.completed', async () => {
      const { response } = await expectRetriedAndPriced('/responses-stream', '/v1/responses', 'chat', (body) => body.usage.input_tokens + body.usage.output_tokens);
      expect(response.body.last).toBe('response.completed');
    });

    it('llm.openai.embeddings.create', async () => {
      await expectRetriedAndPriced('/embeddings', '/v1/embeddings', 'embeddings', (body) => body.usage.prompt_tokens);
    });

    it('the Vercel AI SDK on llm.fetch (maxRetries: 0) is retried by the module', async () => {
      await expectRetriedAndPriced('/vercel', '/v1/chat/completions', 'chat', (body) => body.usage.inputTokens + body.usage.outputTokens);
    });

    it('an error event inside a 200 Responses stream: one request, a clear error, no retry', async () => {
      upstream.setFaults({ sequence: ['stream_error:code=insufficient_quota', 'ok'] });
      const response = await app.http().post('/responses-stream').expect(502);
      expect(response.body).toMatchObject({ code: 'upstream_rejected', giveUpReason: 'not_retryable', cause: { kind: 'insufficient_quota', upstreamCode: 'insufficient_quota' } });
      expect(upstream.stats().totalRequests).toBe(1);
      expect(app.clock.sleeps).toEqual([]);
      const after = await window(app.guard);
      expect(after.reservedMicroUsd).toBe(0);
    });
  });

  describe('refused requests never touch the budget', () => {
    const ledgerRows = async (app: TestApp) => {
      const storage = await app.app.get(ResilientLlmStorageHolder).open();
      const [row] = await storage.dataSource.query('SELECT COUNT(*) AS n FROM resilient_llm_budget_reservation');
      return Number(row.n);
    };

    it('a body the validation pipe refuses: 400, no ledger write, the handler never runs', async () => {
      const app = await boot();
      await app.http().post('/notes').send({}).expect(400);
      expect(await ledgerRows(app)).toBe(0);
      expect(app.controller.bodyRuns).toBe(0);
      expect(upstream.stats().totalRequests).toBe(0);
    });

    it('with the budget spent: a malformed body still gets 400; a valid one 429 before the handler body runs', async () => {
      // 50 micro-dollars cannot hold the handler's estimate of 64 tokens at $1/MTok.
      const app = await boot({ budget: { limits: { dailyUsd: 0.00005 } } });
      const malformed = await app.http().post('/notes').send({ message: '' }).expect(400);
      expect(malformed.body).toMatchObject({ code: 'invalid_request' });
      const refused = await app.http().post('/notes').send({ message: 'note-2' }).expect(429);
      expect(refused.body).toMatchObject({ code: 'budget_exhausted' });
      expect(app.controller.bodyRuns).toBe(0);
      expect(upstream.stats().totalRequests).toBe(0);
      expect(await ledgerRows(app)).toBe(0);
    });
  });
});
