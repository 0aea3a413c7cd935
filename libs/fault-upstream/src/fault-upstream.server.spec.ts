import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, RateLimitError } from 'openai';
import { FaultUpstream } from './fault-upstream.server.js';

const messages = [{ role: 'user' as const, content: 'Hello, upstream' }];

describe('FaultUpstream over HTTP', () => {
  let upstream: FaultUpstream;
  let sdk: OpenAI;

  beforeEach(async () => {
    upstream = await FaultUpstream.start();
    sdk = new OpenAI({ apiKey: 'test', baseURL: upstream.baseURL, maxRetries: 0, timeout: 2_000 });
  });
  afterEach(() => upstream.stop());

  it('serves OpenAI-shaped completions with usage, and counts them', async () => {
    const completion = await sdk.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 5 });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0].message.content?.split(' ')).toHaveLength(5);
    expect(completion.usage).toEqual({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
    expect(upstream.stats()).toMatchObject({ totalRequests: 1, byOutcome: { '200': 1 }, servedTokens: { input: 10, output: 5 } });
    expect(upstream.stats().byPath).toEqual({ '/v1/chat/completions': 1, '/v1/responses': 0, '/v1/embeddings': 0 });
  });

  it('cuts the reply at max_tokens / max_completion_tokens with finish_reason length, and leaves a shorter one whole', async () => {
    const cut = await sdk.chat.completions.create({ model: 'm', messages, max_completion_tokens: 3 });
    expect(cut.choices[0]).toMatchObject({ finish_reason: 'length' });
    expect(cut.usage?.completion_tokens).toBe(3);
    const whole = await sdk.chat.completions.create({ model: 'm', messages, max_tokens: 100 });
    expect(whole.choices[0]).toMatchObject({ finish_reason: 'stop' });
    expect(whole.usage?.completion_tokens).toBe(24);

    const stream = await sdk.chat.completions.create({ model: 'm', messages, max_tokens: 4, stream: true });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('').split(' ')).toHaveLength(4);
    expect(chunks.at(-1)?.choices[0].finish_reason).toBe('length');
  });

  it('fails a chat stream midway on stream_error: one chunk, then an error the SDK throws', async () => {
    const seen: Array<{ outcome: string; path: string }> = [];
    await upstream.stop();
    upstream = await FaultUpstream.start({ faults: { sequence: ['stream_error:code=rate_limit_exceeded'] }, onRequest: ({ outcome, path }) => seen.push({ outcome, path }) });
    sdk = new OpenAI({ apiKey: 'test', baseURL: upstream.baseURL, maxRetries: 0, timeout: 2_000 });

    const stream = await sdk.chat.completions.create({ model: 'm', messages, stream: true });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    const failed = await (async () => {
      for await (const chunk of stream) chunks.push(chunk);
    })().catch((error: unknown) => error);
    expect(chunks).toHaveLength(1);
    expect(failed).toBeInstanceOf(APIError);
    expect(failed).toMatchObject({ code: 'rate_limit_exceeded', type: 'server_error' });
    expect(upstream.stats()).toMatchObject({ byOutcome: { stream_error: 1 }, streamedRequests: 1, servedTokens: { input: 10, output: 0 } });
    expect(seen).toEqual([{ outcome: 'stream_error', path: '/v1/chat/completions' }]);
  });

  it('answers stream_error:code=insufficient_quota to a request without a stream as the insufficient_quota 429', async () => {
    upstream.setFaults({ sequence: ['stream_error:code=insufficient_quota'] });
    const failed = await sdk.chat.completions.create({ model: 'm', messages }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(RateLimitError);
    expect(failed).toMatchObject({ status: 429, code: 'insufficient_quota' });
    expect(upstream.stats()).toMatchObject({ byOutcome: { '429': 1 }, servedTokens: { input: 0, output: 0 } });
  });

  it('streams server-sent events ending with a usage chunk', async () => {
    const stream = await sdk.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text.split(' ')).toHaveLength(24);
    expect(usage).toEqual({ prompt_tokens: 10, completion_tokens: 24, total_tokens: 34 });
    expect(upstream.stats()).toMatchObject({ streamedRequests: 1, byOutcome: { '200': 1 } });
  });

  it('plays the fault sequence: rate limit with headers, reset, hang until the client gives up', async () => {
    upstream.setFaults({ sequence: ['429:retry-after=2,retry-after-ms=150', 'reset', 'timeout'] });
    const rateLimited = await sdk.chat.completions.create({ model: 'm', messages }).catch((error: unknown) => error);
    expect(rateLimited).toBeInstanceOf(RateLimitError);
    expect((rateLimited as RateLimitError).headers.get('retry-after')).toBe('2');
    expect((rateLimited as RateLimitError).headers.get('retry-after-ms')).toBe('150');

    const reset = await sdk.chat.completions.create({ model: 'm', messages }).catch((error: unknown) => error);
    expect(reset).toBeInstanceOf(APIConnectionError);

    const hung = await sdk.chat.completions.create({ model: 'm', messages }, { timeout: 150 }).catch((error: unknown) => error);
    expect(hung).toBeInstanceOf(APIConnectionTimeoutError);
    await vi.waitFor(() => expect(upstream.stats().byOutcome.timeout).toBe(1));
    expect(upstream.stats()).toMatchObject({ totalRequests: 3, inFlight: 0, byOutcome: { '429': 1, reset: 1, timeout: 1 } });
  });

  it('counts a hang the client gave up on during the latency, instead of hanging for ever', async () => {
    upstream.setFaults({ sequence: ['timeout'], latencyMs: 300 });
    const hung = await sdk.chat.completions.create({ model: 'm', messages }, { timeout: 50 }).catch((error: unknown) => error);
    expect(hung).toBeInstanceOf(APIConnectionTimeoutError);
    await vi.waitFor(() => expect(upstream.stats()).toMatchObject({ inFlight: 0, byOutcome: { timeout: 1 } }), { timeout: 2_000 });
  });

  it('refuses an oversized body with 413 without using up a fault of the script', async () => {
    upstream.setFaults({ sequence: ['503'] });
    const response = await fetch(`${upstream.baseURL}/chat/completions`, { method: 'POST', body: 'x'.repeat(1024 * 1024 + 1) });
    expect(response.status).toBe(413);
    expect(upstream.stats().byOutcome).toEqual({ '413': 1 });
    const next = await sdk.chat.completions.create({ model: 'm', messages }).catch((error: { status?: number }) => error);
    expect(next).toMatchObject({ status: 503 });
  });

  it('reports stats, idempotency keys and peak concurrency over HTTP', async () => {
    upstream.setFaults({ latencyMs: 50 });
    await Promise.all(
      ['k1', 'k1', 'k2', 'k3'].map((key) => sdk.chat.completions.create({ model: 'm', messages }, { headers: { 'Idempotency-Key': key } })),
    );
    const stats = await (await fetch(`${upstream.url}/_upstream/stats`)).json();
    expect(stats).toMatchObject({ totalRequests: 4, maxConcurrent: 4, inFlight: 0, idempotencyKeys: { k1: 2, k2: 1, k3: 1 } });

    const reset = await fetch(`${upstream.url}/_upstream/stats`, { method: 'DELETE' });
    expect(await reset.json()).toMatchObject({ totalRequests: 0, idempotencyKeys: {} });
  });

  it('takes a new fault script over HTTP and rejects a bad one with a 400 that names the field', async () => {
    const accepted = await fetch(`${upstream.url}/_upstream/faults`, { method: 'PUT', body: '{"sequence":["503"]}' });
    expect(accepted.status).toBe(200);
    const rejected = await fetch(`${upstream.url}/_upstream/faults`, { method: 'PUT', body: '{"sequence":["teapot"]}' });
    expect(rejected.status).toBe(400);
    expect((await rejected.json()).error.message).toMatch(/"sequence\[0\]" has unknown fault "teapot"/);
    // The bad script changed nothing: the good one still answers 503 first.
    const failed = await sdk.chat.completions.create({ model: 'm', messages }).catch((error: { status?: number }) => error);
    expect(failed).toMatchObject({ status: 503 });
  });

  it('answers a malformed completion request with an OpenAI-style 400', async () => {
    const response = await fetch(`${upstream.baseURL}/chat/completions`, { method: 'POST', body: '{"model":"m"}' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error', message: "'messages' must be a non-empty array" } });
  });

  it('refuses to start on an invalid script', async () => {
    await expect(FaultUpstream.start({ faults: '{"rates":{"503":2}}' })).rejects.toThrow(/"rates\.503" must be a probability/);
  });
});
