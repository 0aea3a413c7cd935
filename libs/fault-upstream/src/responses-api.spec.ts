import OpenAI, { APIConnectionError, InternalServerError, RateLimitError } from 'openai';
import { FaultUpstream } from './fault-upstream.server.js';

describe('FaultUpstream /v1/responses', () => {
  let upstream: FaultUpstream;
  let client: OpenAI;

  beforeEach(async () => {
    upstream = await FaultUpstream.start();
    client = new OpenAI({ apiKey: 'test', baseURL: upstream.baseURL, maxRetries: 0, timeout: 2_000 });
  });
  afterEach(() => upstream.stop());

  it('answers a Response the SDK reads output_text from, with usage, and counts it', async () => {
    const response = await client.responses.create({ model: 'gpt-4o-mini', input: 'Hello, upstream' });
    expect(response).toMatchObject({ id: 'resp_fault_1', object: 'response', status: 'completed', model: 'gpt-4o-mini', error: null, incomplete_details: null });
    expect(response.output).toEqual([
      expect.objectContaining({ type: 'message', role: 'assistant', status: 'completed', content: [expect.objectContaining({ type: 'output_text', annotations: [] })] }),
    ]);
    expect(response.output_text.split(' ')).toHaveLength(24);
    // The same conversation as chat's "Hello, upstream" user message: the same 10 prompt tokens.
    expect(response.usage).toEqual({
      input_tokens: 9,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 24,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 33,
    });
    expect(upstream.stats()).toMatchObject({
      totalRequests: 1,
      byPath: { '/v1/chat/completions': 0, '/v1/responses': 1, '/v1/embeddings': 0 },
      byOutcome: { '200': 1 },
      byModel: { 'gpt-4o-mini': 1 },
      servedTokens: { input: 9, output: 24 },
      streamedRequests: 0,
    });
  });

  it('counts instructions and message input with content parts as chat counts messages', async () => {
    const response = await client.responses.create({
      model: 'm',
      instructions: 'Be brief.',
      input: [
        { role: 'user', content: 'Hello, upstream' },
        { role: 'user', content: [{ type: 'input_text', text: 'again' }] },
      ],
    });
    // 3 + (3 + 3) + (3 + 1 + 3) + (3 + 1 + 1): OpenAI's framing, the role, o200k_base tokens of the text.
    expect(response.usage?.input_tokens).toBe(21);
  });

  it('streams the real event types, numbered, ending with response.completed and its usage', async () => {
    const stream = await client.responses.create({ model: 'm', input: 'Hello, upstream', stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);

    const types = events.map((event) => event.type);
    expect(types.slice(0, 4)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    expect(types.filter((type) => type === 'response.output_text.delta')).toHaveLength(24);
    expect(types.slice(-4)).toEqual(['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));

    const text = events.flatMap((event) => (event.type === 'response.output_text.delta' ? [event.delta] : [])).join('');
    const last = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
    expect(last.response.status).toBe('completed');
    expect(last.response.usage).toMatchObject({ input_tokens: 9, output_tokens: 24, total_tokens: 33 });
    expect(last.response.output).toEqual([expect.objectContaining({ content: [expect.objectContaining({ text })] })]);
    expect(upstream.stats()).toMatchObject({ streamedRequests: 1, byOutcome: { '200': 1 }, servedTokens: { input: 9, output: 24 } });
  });

  it("works with the SDK's responses.stream helper and its final response", async () => {
    const final = await client.responses.stream({ model: 'm', input: 'Hello, upstream' }).finalResponse();
    expect(final.output_text.split(' ')).toHaveLength(24);
    expect(final.usage?.output_tokens).toBe(24);
  });

  it('cuts the reply at max_output_tokens and says so: status incomplete, plain and streamed', async () => {
    const plain = await client.responses.create({ model: 'm', input: 'Hello, upstream', max_output_tokens: 5 });
    expect(plain).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, max_output_tokens: 5 });
    expect(plain.output_text.split(' ')).toHaveLength(5);
    expect(plain.usage?.output_tokens).toBe(5);

    const stream = await client.responses.create({ model: 'm', input: 'Hello, upstream', max_output_tokens: 5, stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events.filter((event) => event.type === 'response.output_text.delta')).toHaveLength(5);
    const last = events.at(-1) as OpenAI.Responses.ResponseIncompleteEvent;
    expect(last.type).toBe('response.incomplete');
    expect(last.response).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, usage: { output_tokens: 5 } });
    expect(upstream.stats().servedTokens.output).toBe(10);
  });

  it('leaves a reply shorter than max_output_tokens whole', async () => {
    const response = await client.responses.create({ model: 'm', input: 'hi', max_output_tokens: 100 });
    expect(response.status).toBe('completed');
    expect(response.usage?.output_tokens).toBe(24);
  });

  it('plays the fault script here too: 503 with headers, 429, reset, hang', async () => {
    upstream.setFaults({ sequence: ['503:x-should-retry=false', '429:retry-after=2', 'reset', 'timeout'] });
    const overloaded = await client.responses.create({ model: 'm', input: 'hi' }).catch((error: unknown) => error);
    expect(overloaded).toBeInstanceOf(InternalServerError);
    expect(overloaded).toMatchObject({ status: 503 });
    expect((overloaded as InternalServerError).headers.get('x-should-retry')).toBe('false');

    const limited = await client.responses.create({ model: 'm', input: 'hi' }).catch((error: unknown) => error);
    expect(limited).toBeInstanceOf(RateLimitError);
    expect((limited as RateLimitError).headers.get('retry-after')).toBe('2');

    expect(await client.responses.create({ model: 'm', input: 'hi' }).catch((error: unknown) => error)).toBeInstanceOf(APIConnectionError);
    await client.responses.create({ model: 'm', input: 'Hello, upstream' }, { timeout: 100 }).catch(() => undefined);
    await vi.waitFor(() => expect(upstream.stats().byOutcome.timeout).toBe(1));
    expect(upstream.stats()).toMatchObject({
      totalRequests: 4,
      inFlight: 0,
      byPath: { '/v1/responses': 4 },
      byOutcome: { '503': 1, '429': 1, reset: 1, timeout: 1 },
      abandonedPromptTokens: 7 + 9,
      servedTokens: { input: 0, output: 0 },
    });
  });

  it('fails inside a 200 stream on stream_error: response.created, then the error event with its code', async () => {
    upstream.setFaults({ sequence: ['stream_error:code=insufficient_quota'] });
    const stream = await client.responses.create({ model: 'm', input: 'Hello, upstream', stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events.map((event) => event.type)).toEqual(['response.created', 'error']);
    expect(events[1]).toEqual({ type: 'error', code: 'insufficient_quota', message: expect.any(String), param: null, sequence_number: 1 });
    expect(upstream.stats()).toMatchObject({
      byOutcome: { stream_error: 1 },
      streamedRequests: 1,
      servedTokens: { input: 9, output: 0 },
    });
  });

  it('sends server_error in the stream when stream_error names no code, and a plain 500 to a request without a stream', async () => {
    upstream.setFaults({ sequence: ['stream_error', 'stream_error'] });
    const stream = await client.responses.create({ model: 'm', input: 'hi', stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events.at(-1)).toMatchObject({ type: 'error', code: 'server_error' });

    const plain = await client.responses.create({ model: 'm', input: 'hi' }).catch((error: unknown) => error);
    expect(plain).toBeInstanceOf(InternalServerError);
    expect(plain).toMatchObject({ status: 500, code: 'server_error' });
    expect(upstream.stats().byOutcome).toEqual({ stream_error: 1, '500': 1 });
  });

  it('answers a malformed request with an OpenAI-style 400', async () => {
    const missingInput = await fetch(`${upstream.baseURL}/responses`, { method: 'POST', body: '{"model":"m"}' });
    expect(missingInput.status).toBe(400);
    expect(await missingInput.json()).toMatchObject({
      error: { type: 'invalid_request_error', message: "'input' must be a string or a non-empty array of input items" },
    });
    const badLimit = await fetch(`${upstream.baseURL}/responses`, { method: 'POST', body: '{"model":"m","input":"hi","max_output_tokens":0}' });
    expect(badLimit.status).toBe(400);
    expect(upstream.stats().byOutcome).toEqual({ '400': 2 });
  });
});
