import { type EndpointAdapter, type JsonBody, type StreamEvent, asObject, tokenCount, textOf, tokensOfText, usageFrom } from './endpoint-adapter.js';

// The events that close a Responses stream; each carries the whole response with its usage.
const FINAL_EVENTS = new Set(['response.completed', 'response.incomplete', 'response.failed']);

function inputTokens(input: unknown): number {
  if (typeof input === 'string') return tokensOfText(input);
  if (!Array.isArray(input)) return 0;
  return input.reduce<number>((sum, item) => {
    const part = asObject(item);
    return sum + 4 + tokensOfText(textOf(part?.content ?? part?.text ?? part?.output ?? ''));
  }, 0);
}

const usageOfResponse = (response: JsonBody | undefined) => {
  const usage = asObject(response?.usage);
  return usage && usageFrom(usage.input_tokens, usage.output_tokens);
};

/** `POST /responses` (the Responses API), plain and streamed; usage from the final event. */
export const responsesAdapter: EndpointAdapter = {
  operation: 'chat',
  matches: (path) => path.endsWith('/responses'),
  prepare: (body) => body,
  isStream: (body) => body.stream === true,
  promptTokens: (body) => 3 + inputTokens(body.input) + (typeof body.instructions === 'string' ? tokensOfText(body.instructions) : 0),
  outputCap: (body) => tokenCount(body.max_output_tokens),
  usageOf: usageOfResponse,
  readEvent: ({ event, data }: StreamEvent) => {
    const type = typeof data.type === 'string' ? data.type : event;
    if (type === 'error') return { error: { code: String(data.code ?? 'unknown'), message: String(data.message ?? '') } };
    if (type === 'response.output_text.delta') return { outputDelta: true };
    if (!type || !FINAL_EVENTS.has(type)) return {};
    const response = asObject(data.response);
    const failed = type === 'response.failed' ? asObject(response?.error) : undefined;
    return {
      usage: usageOfResponse(response),
      responseModel: typeof response?.model === 'string' ? response.model : undefined,
      responseId: typeof response?.id === 'string' ? response.id : undefined,
      ...(failed && { error: { code: String(failed.code ?? 'response_failed'), message: String(failed.message ?? '') } }),
    };
  },
  contentOf: (body, answer) => ({ input: body.input, output: answer?.output }),
};
