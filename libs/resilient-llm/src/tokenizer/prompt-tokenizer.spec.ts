import fc from 'fast-check';
import { chatCompletionsAdapter } from '../transport/adapters/chat-completions.adapter.js';
import { embeddingsAdapter } from '../transport/adapters/embeddings.adapter.js';
import { responsesAdapter } from '../transport/adapters/responses.adapter.js';
import { UTF8_BYTES, encodingOf, isEncodingLoaded, loadEncoding, promptTokenizerFor } from './prompt-tokenizer.js';

// OpenAI cookbook, "How to count tokens with tiktoken": the API counted 129 prompt tokens for these
// messages on gpt-3.5-turbo and gpt-4 (cl100k_base), 124 on gpt-4o and gpt-4o-mini (o200k_base).
const COOKBOOK_MESSAGES = [
  { role: 'system', content: 'You are a helpful, pattern-following assistant that translates corporate jargon into plain English.' },
  { role: 'system', name: 'example_user', content: 'New synergies will help drive top-line growth.' },
  { role: 'system', name: 'example_assistant', content: 'Things working well together will increase revenue.' },
  { role: 'system', name: 'example_user', content: "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage." },
  { role: 'system', name: 'example_assistant', content: "Let's talk later when we're less busy about how to do better." },
  { role: 'user', content: "This late pivot means we don't have time to boil the ocean for the client deliverable." },
];
// Same cookbook, with one function tool: the API counted 101 (o200k_base) and 105 (cl100k_base).
const COOKBOOK_TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_current_weather',
      description: 'Get the current weather in a given location',
      parameters: {
        type: 'object',
        properties: {
          location: { type: 'string', description: 'The city and state, e.g. San Francisco, CA' },
          unit: { type: 'string', description: 'The unit of temperature to return', enum: ['celsius', 'fahrenheit'] },
        },
        required: ['location'],
      },
    },
  },
];
const WEATHER_MESSAGES = [
  { role: 'system', content: 'You are a helpful assistant that can answer to questions about the weather.' },
  { role: 'user', content: "What's the weather like in San Francisco?" },
];

const chatTokens = (model: string, body: Record<string, unknown>) => chatCompletionsAdapter.promptTokens({ model, ...body }, promptTokenizerFor(model));

describe('prompt tokenizer', () => {
  beforeAll(() => Promise.all([loadEncoding('o200k_base'), loadEncoding('cl100k_base')]));

  it('picks the encoding of each OpenAI family, and none for other families', () => {
    for (const model of ['gpt-4o', 'gpt-4o-mini-2024-07-18', 'gpt-4.1-nano', 'gpt-5', 'gpt-5.2-pro', 'o1', 'o3-mini', 'o4-mini', 'openai/gpt-4o', 'ft:gpt-4o-mini-2024-07-18:org::abc']) {
      expect([model, encodingOf(model)]).toEqual([model, 'o200k_base']);
    }
    for (const model of ['gpt-4', 'gpt-4-turbo', 'gpt-3.5-turbo', 'text-embedding-3-small', 'text-embedding-ada-002']) {
      expect([model, encodingOf(model)]).toEqual([model, 'cl100k_base']);
    }
    for (const model of ['claude-sonnet-4-5', 'gemini-2.5-pro', 'deepseek-chat', 'llama-3.3-70b', 'gpt-oss-120b', 'o3x', 'flat']) {
      expect([model, encodingOf(model)]).toEqual([model, undefined]);
      expect(promptTokenizerFor(model)).toBe(UTF8_BYTES);
    }
  });

  it('counts chat messages exactly as the OpenAI API did (cookbook figures)', () => {
    expect(chatTokens('gpt-4o', { messages: COOKBOOK_MESSAGES })).toEqual({ tokens: 124, uncounted: 0 });
    expect(chatTokens('gpt-4o-mini', { messages: COOKBOOK_MESSAGES })).toEqual({ tokens: 124, uncounted: 0 });
    expect(chatTokens('gpt-4', { messages: COOKBOOK_MESSAGES })).toEqual({ tokens: 129, uncounted: 0 });
    expect(chatTokens('gpt-3.5-turbo', { messages: COOKBOOK_MESSAGES })).toEqual({ tokens: 129, uncounted: 0 });
  });

  it('counts texts as the encodings do, special-token text as plain text', () => {
    const o200k = promptTokenizerFor('gpt-4o');
    const cl100k = promptTokenizerFor('gpt-4');
    expect([o200k.count('tiktoken is great!'), cl100k.count('tiktoken is great!')]).toEqual([6, 6]);
    expect([o200k.count('お誕生日おめでとう'), cl100k.count('お誕生日おめでとう')]).toEqual([8, 9]);
    expect(o200k.count('<|endoftext|>')).toBeGreaterThan(1);
  });

  it('bounds tool definitions from above by their JSON text', () => {
    const o200k = chatTokens('gpt-4o', { messages: WEATHER_MESSAGES, tools: COOKBOOK_TOOLS });
    const cl100k = chatTokens('gpt-4', { messages: WEATHER_MESSAGES, tools: COOKBOOK_TOOLS });
    expect(o200k.tokens).toBeGreaterThanOrEqual(101);
    expect(cl100k.tokens).toBeGreaterThanOrEqual(105);
    // ... and not far above: within 2x of what the API counted.
    expect(o200k.tokens).toBeLessThan(202);
  });

  it('counts what the fault upstream counts for short chats, Responses inputs and embeddings', () => {
    // The fault upstream: 3 + per message (3 + ceil(chars / 4)); "Hello" from a user is 8 tokens there.
    expect(chatTokens('gpt-4o-mini', { messages: [{ role: 'user', content: 'Hello' }] }).tokens).toBe(8);
    expect(responsesAdapter.promptTokens({ model: 'gpt-4o-mini', input: 'Hello' }, promptTokenizerFor('gpt-4o-mini')).tokens).toBe(8);
    expect(embeddingsAdapter.promptTokens({ model: 'text-embedding-3-small', input: ['tiktoken is great!', [1, 2, 3]] }, promptTokenizerFor('text-embedding-3-small')).tokens).toBe(6 + 3);
  });

  it('flags parts it cannot count (images), which make the count a lower bound', () => {
    const messages = [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }];
    expect(chatTokens('gpt-4o', { messages })).toMatchObject({ uncounted: 1 });
  });

  it('bounds every other family by UTF-8 bytes, never below the exact count', () => {
    const o200k = promptTokenizerFor('gpt-4o');
    const cl100k = promptTokenizerFor('gpt-4');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
        expect(UTF8_BYTES.count(text)).toBeGreaterThanOrEqual(o200k.count(text));
        expect(UTF8_BYTES.count(text)).toBeGreaterThanOrEqual(cl100k.count(text));
      }),
    );
    expect(UTF8_BYTES.count('お誕生日')).toBe(12);
  });

  it('counts a long prompt once: the same figure when it comes again (from the cache)', () => {
    const words = ['budget', 'retry', 'the', 'of', 'jitter', 'and', 'window', 'tokens', 'reserve', 'a', 'call', 'spend', 'limit', 'to'];
    const text = Array.from({ length: 6_000 }, (_, index) => words[(index * 7) % words.length]).join(' ');
    const tokenizer = promptTokenizerFor('gpt-4o');
    const first = tokenizer.count(text);
    expect(first).toBeGreaterThan(5_000);
    expect(tokenizer.count(text)).toBe(first);
  });

  it('bounds a text with a long run of non-space characters by its UTF-8 bytes (exact BPE on it is quadratic)', () => {
    const tokenizer = promptTokenizerFor('gpt-4o');
    const run = `summarize this: ${'x'.repeat(100_000)} please`;
    expect(tokenizer.count(run)).toBe(Buffer.byteLength(run, 'utf8'));
    // Below the run length that switches to the bound, the count is exact (and far below the bytes).
    const short = `summarize this: ${'xy '.repeat(30_000)}`;
    expect(tokenizer.count(short)).toBeLessThan(Buffer.byteLength(short, 'utf8') / 2);
  });
});
