import { type EndpointAdapter, type JsonBody, asObject, tokenCount, tokensOfText } from './endpoint-adapter.js';

function tokensOfInput(input: unknown): number {
  if (typeof input === 'string') return tokensOfText(input);
  if (!Array.isArray(input)) return 0;
  // A list of token ids is its own count; a list of strings or of token lists, the sum.
  if (input.every((item) => typeof item === 'number')) return input.length;
  return input.reduce<number>((sum, item) => sum + tokensOfInput(item), 0);
}

/** `POST /embeddings`: input tokens only, nothing streamed. */
export const embeddingsAdapter: EndpointAdapter = {
  operation: 'embeddings',
  matches: (path) => path.endsWith('/embeddings'),
  prepare: (body) => body,
  isStream: () => false,
  promptTokens: (body: JsonBody) => tokensOfInput(body.input),
  outputCap: () => 0,
  usageOf: (answer) => {
    const usage = asObject(answer.usage);
    const inputTokens = tokenCount(usage?.prompt_tokens);
    return inputTokens === undefined ? undefined : { inputTokens, outputTokens: 0 };
  },
  readEvent: () => ({}),
  contentOf: (body) => ({ input: body.input }),
};
