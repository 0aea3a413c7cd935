import OpenAI, { InternalServerError } from 'openai';
import { FaultUpstream } from './fault-upstream.server.js';

describe('FaultUpstream /v1/embeddings', () => {
  let upstream: FaultUpstream;
  let client: OpenAI;

  beforeEach(async () => {
    upstream = await FaultUpstream.start();
    client = new OpenAI({ apiKey: 'test', baseURL: upstream.baseURL, maxRetries: 0, timeout: 2_000 });
  });
  afterEach(() => upstream.stop());

  it('embeds each input in 8 deterministic floats, with usage, and counts it', async () => {
    // The SDK asks for base64 unless told otherwise, and decodes it.
    const result = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['Hello, upstream', 'hi', 'Hello, upstream'] });
    expect(result).toMatchObject({ object: 'list', model: 'text-embedding-3-small', usage: { prompt_tokens: 3 + 1 + 3, total_tokens: 7 } });
    expect(result.data.map((item) => [item.object, item.index, item.embedding.length])).toEqual([
      ['embedding', 0, 8],
      ['embedding', 1, 8],
      ['embedding', 2, 8],
    ]);
    expect(result.data[2].embedding).toEqual(result.data[0].embedding);
    expect(result.data[1].embedding).not.toEqual(result.data[0].embedding);
    expect(Math.hypot(...result.data[0].embedding)).toBeCloseTo(1, 5);

    const floats = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'Hello, upstream', encoding_format: 'float' });
    expect(floats.data[0].embedding).toEqual(result.data[0].embedding);

    expect(upstream.stats()).toMatchObject({
      totalRequests: 2,
      byPath: { '/v1/chat/completions': 0, '/v1/responses': 0, '/v1/embeddings': 2 },
      byOutcome: { '200': 2 },
      byModel: { 'text-embedding-3-small': 2 },
      servedTokens: { input: 7 + 3, output: 0 },
    });
  });

  it('takes token arrays, one or several, counting a token each', async () => {
    const one = await client.embeddings.create({ model: 'm', input: [1, 2, 3], encoding_format: 'float' });
    expect(one.data).toHaveLength(1);
    expect(one.usage.prompt_tokens).toBe(3);
    const several = await client.embeddings.create({ model: 'm', input: [[1, 2, 3], [4]], encoding_format: 'float' });
    expect(several.data).toHaveLength(2);
    expect(several.data[0].embedding).toEqual(one.data[0].embedding);
    expect(several.usage).toEqual({ prompt_tokens: 4, total_tokens: 4 });
  });

  it('plays the fault script here too: a 503, and a stream_error answered as a plain 500', async () => {
    upstream.setFaults({ sequence: ['503:retry-after=1', 'stream_error', 'ok'] });
    const overloaded = await client.embeddings.create({ model: 'm', input: 'hi' }).catch((error: unknown) => error);
    expect(overloaded).toBeInstanceOf(InternalServerError);
    expect(overloaded).toMatchObject({ status: 503 });
    expect((overloaded as InternalServerError).headers.get('retry-after')).toBe('1');
    // Embeddings never stream, so there is no stream to fail inside.
    expect(await client.embeddings.create({ model: 'm', input: 'hi' }).catch((error: unknown) => error)).toMatchObject({ status: 500 });
    await client.embeddings.create({ model: 'm', input: 'hi' });
    expect(upstream.stats()).toMatchObject({ byPath: { '/v1/embeddings': 3 }, byOutcome: { '503': 1, '500': 1, '200': 1 }, servedTokens: { input: 1 } });
  });

  it('answers a malformed request with an OpenAI-style 400', async () => {
    for (const body of ['{"model":"m"}', '{"model":"m","input":""}', '{"model":"m","input":[]}', '{"model":"m","input":[{"text":"hi"}]}']) {
      const response = await fetch(`${upstream.baseURL}/embeddings`, { method: 'POST', body });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error', message: expect.stringMatching(/'input' must be/) } });
    }
  });
});
