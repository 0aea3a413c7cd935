import type { PromptTokenizer } from '../../tokenizer/prompt-tokenizer.js';
import { type EndpointAdapter, type JsonBody, type PromptCount, asObject } from './endpoint-adapter.js';
import { embeddingsUsage } from './usage.js';

/** A string, a list of strings, a list of token ids (its own count) or a list of such lists; no message frame. */
function countInput(input: unknown, tokenizer: PromptTokenizer, count: PromptCount): void {
  if (typeof input === 'string') count.tokens += tokenizer.count(input);
  else if (!Array.isArray(input)) return;
  else if (input.every((item) => typeof item === 'number')) count.tokens += input.length;
  else for (const item of input) countInput(item, tokenizer, count);
}

/** `POST /embeddings`: input tokens only, nothing streamed. */
export const embeddingsAdapter: EndpointAdapter = {
  operation: 'embeddings',
  matches: (path) => path.endsWith('/embeddings'),
  prepare: (body) => body,
  isStream: () => false,
  promptTokens: (body: JsonBody, tokenizer) => {
    const count: PromptCount = { tokens: 0, uncounted: 0 };
    countInput(body.input, tokenizer, count);
    return count;
  },
  outputCap: () => 0,
  usageOf: (answer) => embeddingsUsage(asObject(answer.usage)),
  readEvent: () => ({}),
  contentOf: (body) => ({ input: body.input }),
};
