import type { Endpoint, Reply, SseEvent } from './endpoint.js';
import { promptTokensOf, replyText } from './openai-responses.js';
import { outputTokensCounted } from './rate-limiter.js';

export interface ResponsesRequestBody {
  model: string;
  /** A prompt, or messages `{ role, content }` whose content is a string or parts carrying `text`. */
  input: string | Array<{ role?: string; content?: unknown }>;
  instructions?: string | null;
  max_output_tokens?: number | null;
  stream?: boolean | null;
}

export function validateResponsesRequest(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return 'the request body must be a JSON object';
  const { model, input, instructions, max_output_tokens: maxOutputTokens } = body as Record<string, unknown>;
  if (typeof model !== 'string' || model === '') return "'model' is required";
  const inputOk =
    typeof input === 'string' || (Array.isArray(input) && input.length > 0 && input.every((item) => typeof item === 'object' && item !== null));
  if (!inputOk) return "'input' must be a string or a non-empty array of input items";
  if (instructions != null && typeof instructions !== 'string') return "'instructions' must be a string";
  if (maxOutputTokens != null && !(Number.isSafeInteger(maxOutputTokens) && (maxOutputTokens as number) >= 1)) {
    return "'max_output_tokens' must be a whole number >= 1";
  }
  return undefined;
}

/** Counted as chat counts the same conversation: the instructions are a system message, a string input one user message. */
function promptTokensOfResponse(body: ResponsesRequestBody): number {
  const input = typeof body.input === 'string' ? [{ content: body.input }] : body.input;
  return promptTokensOf({ messages: body.instructions ? [{ content: body.instructions }, ...input] : input });
}

type Status = 'in_progress' | 'completed' | 'incomplete';

const finalStatusOf = (reply: Reply<ResponsesRequestBody>): Status => (reply.truncated ? 'incomplete' : 'completed');
const itemIdOf = (reply: Reply<ResponsesRequestBody>) => `msg_fault_${reply.number}`;
const outputText = (text: string) => ({ type: 'output_text', text, annotations: [], logprobs: [] });

function messageItem(reply: Reply<ResponsesRequestBody>, status: Status, content: object[]) {
  return { type: 'message', id: itemIdOf(reply), status, role: 'assistant', content };
}

/** The Response object, with every field the `openai` SDK's `Response` type requires. */
function responseObject(reply: Reply<ResponsesRequestBody>, status: Status, output: object[]) {
  const { body } = reply;
  const usage =
    status === 'in_progress'
      ? null
      : {
          input_tokens: reply.promptTokens,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: reply.words.length,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: reply.promptTokens + reply.words.length,
        };
  return {
    id: `resp_fault_${reply.number}`,
    object: 'response',
    created_at: reply.created,
    status,
    background: false,
    completed_at: status === 'completed' ? reply.created : null,
    error: null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    metadata: {},
    model: body.model,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    service_tier: 'default',
    // Nothing is kept: `GET /v1/responses/{id}` is not served.
    store: false,
    temperature: 1,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    usage,
  };
}

/** Names each event by its type and numbers it, as the Responses API does. */
const numbered = (events: Array<{ type: string } & Record<string, unknown>>): SseEvent[] =>
  events.map((event, index) => ({ event: event.type, data: { ...event, sequence_number: index } }));

/** `POST /v1/responses`, plain and streamed. */
export const responsesApi: Endpoint<ResponsesRequestBody> = {
  path: '/v1/responses',
  validate: validateResponsesRequest,
  promptTokens: promptTokensOfResponse,
  outputTokensForRateLimit: (body) => outputTokensCounted(body.max_output_tokens),
  replyText: (body, defaultTokens, number) => replyText(body.max_output_tokens, defaultTokens, number),
  answer: (reply) => responseObject(reply, finalStatusOf(reply), [messageItem(reply, finalStatusOf(reply), [outputText(reply.words.join(' '))])]),
  stream: {
    requested: (body) => Boolean(body.stream),
    events(reply) {
      const status = finalStatusOf(reply);
      const text = reply.words.join(' ');
      const item = messageItem(reply, status, [outputText(text)]);
      const started = responseObject(reply, 'in_progress', []);
      const at = { item_id: itemIdOf(reply), output_index: 0, content_index: 0 };
      return numbered([
        { type: 'response.created', response: started },
        { type: 'response.in_progress', response: started },
        { type: 'response.output_item.added', output_index: 0, item: messageItem(reply, 'in_progress', []) },
        { type: 'response.content_part.added', ...at, part: outputText('') },
        ...reply.words.map((word, index) => ({ type: 'response.output_text.delta', ...at, delta: index === 0 ? word : ` ${word}`, logprobs: [] })),
        { type: 'response.output_text.done', ...at, text, logprobs: [] },
        { type: 'response.content_part.done', ...at, part: outputText(text) },
        { type: 'response.output_item.done', output_index: 0, item },
        // A reply cut at max_output_tokens ends `response.incomplete`, as OpenAI's does.
        { type: `response.${status}`, response: responseObject(reply, status, [item]) },
      ]);
    },
    failingEvents: (reply, error) =>
      numbered([
        { type: 'response.created', response: responseObject(reply, 'in_progress', []) },
        { type: 'error', code: error.code, message: error.message, param: null },
      ]),
    endsWithDone: false,
    eventsBeforeText: 4,
  },
};
