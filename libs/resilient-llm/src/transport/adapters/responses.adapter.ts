import { type EndpointAdapter, type JsonBody, type PromptCount, type StreamEvent, asObject, tokenCount } from './endpoint-adapter.js';
import { countContent, countDeclarations, countJson, countMessage } from './prompt-count.js';
import { responsesUsage } from './usage.js';

// The events that close a Responses stream; each carries the whole response with its usage.
const FINAL_EVENTS = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/** `input`: a prompt (one user message), or items: messages, and tool calls and outputs counted as their text. */
function countInput(input: unknown, tokenizer: Parameters<EndpointAdapter['promptTokens']>[1], count: PromptCount): void {
  if (typeof input === 'string') {
    countMessage({ role: 'user', content: input }, tokenizer, count);
    return;
  }
  if (!Array.isArray(input)) return;
  for (const entry of input) {
    const item = asObject(entry);
    if (!item) continue;
    if (item.content !== undefined || typeof item.role === 'string') {
      countMessage(item, tokenizer, count);
      continue;
    }
    count.tokens += tokenizer.perMessage;
    if (typeof item.name === 'string') count.tokens += tokenizer.count(item.name);
    if (item.arguments !== undefined) countJson(item.arguments, tokenizer, count);
    else if (item.output !== undefined) countContent(item.output, tokenizer, count);
    else countJson(item, tokenizer, count);
  }
}

const usageOfResponse = (response: JsonBody | undefined) => responsesUsage(asObject(response?.usage));

/** `POST /responses` (the Responses API), plain and streamed; usage from the final event. */
export const responsesAdapter: EndpointAdapter = {
  operation: 'chat',
  matches: (path) => path.endsWith('/responses'),
  // No request is unbounded: `max_output_tokens`.
  prepare: (body, { maxOutputTokens }) => (tokenCount(body.max_output_tokens) === undefined ? { ...body, max_output_tokens: maxOutputTokens } : body),
  isStream: (body) => body.stream === true,
  promptTokens: (body, tokenizer) => {
    const count: PromptCount = { tokens: tokenizer.perReply, uncounted: 0 };
    // The instructions reach the model as a system (developer) message.
    if (typeof body.instructions === 'string') countMessage({ role: 'system', content: body.instructions }, tokenizer, count);
    countInput(body.input, tokenizer, count);
    countDeclarations(body, tokenizer, count);
    // Input the body does not carry: an earlier response's or a conversation's history, a stored
    // prompt, what built-in tools (web or file search) add. Counted as unknown: the call's estimate stands in.
    if (body.previous_response_id !== undefined || body.conversation !== undefined || body.prompt !== undefined) count.uncounted++;
    if (Array.isArray(body.tools) && body.tools.some((tool) => asObject(tool)?.type !== 'function')) count.uncounted++;
    return count;
  },
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
