import { type EndpointAdapter, type JsonBody, type StreamEvent, asObject, tokenCount, textOf, tokensOfText, usageFrom } from './endpoint-adapter.js';

const messagesOf = (body: JsonBody): unknown[] => (Array.isArray(body.messages) ? body.messages : []);

/** `POST /chat/completions`, plain and streamed (the stream is asked to report its usage). */
export const chatCompletionsAdapter: EndpointAdapter = {
  operation: 'chat',
  matches: (path) => path.endsWith('/chat/completions'),
  prepare: (body) =>
    body.stream === true ? { ...body, stream_options: { ...asObject(body.stream_options), include_usage: true } } : body,
  isStream: (body) => body.stream === true,
  promptTokens: (body) => 3 + messagesOf(body).reduce<number>((sum, message) => sum + 4 + tokensOfText(textOf(asObject(message)?.content)), 0),
  outputCap: (body) => tokenCount(body.max_completion_tokens) ?? tokenCount(body.max_tokens),
  usageOf: (answer) => {
    const usage = asObject(answer.usage);
    return usage && usageFrom(usage.prompt_tokens, usage.completion_tokens);
  },
  readEvent: ({ data }: StreamEvent) => {
    const error = asObject(data.error);
    if (error) return { error: { code: String(error.code ?? error.type ?? 'unknown'), message: String(error.message ?? '') } };
    const usage = asObject(data.usage);
    const choice = Array.isArray(data.choices) ? asObject(data.choices[0]) : undefined;
    return {
      usage: usage && usageFrom(usage.prompt_tokens, usage.completion_tokens),
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
