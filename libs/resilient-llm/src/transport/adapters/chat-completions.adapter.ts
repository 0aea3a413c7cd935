import { type EndpointAdapter, type JsonBody, type PromptCount, type StreamEvent, asObject, textOf, tokenCount } from './endpoint-adapter.js';
import { countDeclarations, countMessage } from './prompt-count.js';
import { chatUsage } from './usage.js';

const messagesOf = (body: JsonBody): unknown[] => (Array.isArray(body.messages) ? body.messages : []);

const requestedCap = (body: JsonBody) => tokenCount(body.max_completion_tokens) ?? tokenCount(body.max_tokens);

/** The most a request can produce: its cap for each of its `n` choices. */
const outputCap = (body: JsonBody) => {
  const cap = requestedCap(body);
  return cap === undefined ? undefined : cap * Math.max(1, tokenCount(body.n) ?? 1);
};

/** `POST /chat/completions`, plain and streamed (the stream is asked to report its usage). */
export const chatCompletionsAdapter: EndpointAdapter = {
  operation: 'chat',
  matches: (path) => path.endsWith('/chat/completions'),
  prepare: (body, { maxOutputTokens, legacyCapField }) => {
    let prepared = body;
    // No request is unbounded: `max_completion_tokens` (a caller's `max_tokens` is kept as it is).
    if (requestedCap(body) === undefined) prepared = { ...prepared, [legacyCapField ? 'max_tokens' : 'max_completion_tokens']: maxOutputTokens };
    if (body.stream === true) prepared = { ...prepared, stream_options: { ...asObject(body.stream_options), include_usage: true } };
    return prepared;
  },
  isStream: (body) => body.stream === true,
  promptTokens: (body, tokenizer) => {
    const count: PromptCount = { tokens: tokenizer.perReply, uncounted: 0 };
    for (const message of messagesOf(body)) {
      const object = asObject(message);
      if (object) countMessage(object, tokenizer, count);
    }
    countDeclarations(body, tokenizer, count);
    return count;
  },
  outputCap,
  usageOf: (answer) => chatUsage(asObject(answer.usage)),
  readEvent: ({ data }: StreamEvent) => {
    const error = asObject(data.error);
    if (error) return { error: { code: String(error.code ?? error.type ?? 'unknown'), message: String(error.message ?? '') } };
    const choice = Array.isArray(data.choices) ? asObject(data.choices[0]) : undefined;
    return {
      usage: chatUsage(asObject(data.usage)),
      outputDelta: !!textOf(asObject(choice?.delta)?.content),
      responseModel: typeof data.model === 'string' ? data.model : undefined,
      responseId: typeof data.id === 'string' ? data.id : undefined,
    };
  },
  contentOf: (body, answer) => ({
    input: body.messages,
    output: Array.isArray(answer?.choices) ? answer.choices.map((choice) => asObject(choice)?.message) : undefined,
  }),
};
