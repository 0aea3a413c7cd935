import { UTF8_BYTES } from '../../tokenizer/prompt-tokenizer.js';
import { chatCompletionsAdapter } from './chat-completions.adapter.js';
import { responsesAdapter } from './responses.adapter.js';

describe('endpoint adapters: what a request may cost', () => {
  const limits = { maxOutputTokens: 512, legacyCapField: false };

  it('caps a chat request that has no cap, in the field its server knows', () => {
    expect(chatCompletionsAdapter.prepare({ model: 'gpt-4o', messages: [] }, limits)).toMatchObject({ max_completion_tokens: 512 });
    const legacy = chatCompletionsAdapter.prepare({ model: 'llama-3', messages: [] }, { ...limits, legacyCapField: true });
    expect(legacy).toMatchObject({ max_tokens: 512 });
    expect(legacy).not.toHaveProperty('max_completion_tokens');
    // A caller's own cap is kept as it is.
    expect(chatCompletionsAdapter.prepare({ model: 'gpt-4o', messages: [], max_tokens: 64 }, limits)).toEqual({ model: 'gpt-4o', messages: [], max_tokens: 64 });
  });

  it('counts the cap once per choice: n: 4 may produce four replies', () => {
    expect(chatCompletionsAdapter.outputCap({ max_completion_tokens: 100 })).toBe(100);
    expect(chatCompletionsAdapter.outputCap({ max_completion_tokens: 100, n: 4 })).toBe(400);
    expect(chatCompletionsAdapter.outputCap({ n: 4 })).toBeUndefined();
  });

  it('flags Responses input the body does not carry (history, stored prompts, built-in tools) as uncounted', () => {
    const plain = responsesAdapter.promptTokens({ model: 'm', input: 'Hello' }, UTF8_BYTES);
    expect(plain.uncounted).toBe(0);
    for (const extra of [{ previous_response_id: 'resp_1' }, { conversation: 'conv_1' }, { prompt: { id: 'pmpt_1' } }, { tools: [{ type: 'web_search' }] }]) {
      expect(responsesAdapter.promptTokens({ model: 'm', input: 'Hello', ...extra }, UTF8_BYTES).uncounted).toBeGreaterThan(0);
    }
    expect(responsesAdapter.promptTokens({ model: 'm', input: 'Hello', tools: [{ type: 'function', name: 'f', parameters: {} }] }, UTF8_BYTES).uncounted).toBe(0);
  });
});
