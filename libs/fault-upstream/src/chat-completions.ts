import type { Endpoint, Reply, SseEvent } from './endpoint.js';
import { openAiError, promptTokensOf, replyText } from './openai-responses.js';
import { outputTokensCounted } from './rate-limiter.js';

export interface ChatRequestBody {
  model: string;
  messages: Array<{ role: string; content: unknown }>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  max_completion_tokens?: number;
  /** Choices to generate; a rate limit counts the output cap once for each. */
  n?: number;
}

export function validateChatRequest(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return 'the request body must be a JSON object';
  const { model, messages } = body as Record<string, unknown>;
  if (typeof model !== 'string' || model === '') return "'model' is required";
  if (!Array.isArray(messages) || messages.length === 0) return "'messages' must be a non-empty array";
  return undefined;
}

const usageOf = (reply: Reply<ChatRequestBody>) => ({
  prompt_tokens: reply.promptTokens,
  completion_tokens: reply.words.length,
  total_tokens: reply.promptTokens + reply.words.length,
});

const finishReasonOf = (reply: Reply<ChatRequestBody>) => (reply.truncated ? 'length' : 'stop');

function chunk(reply: Reply<ChatRequestBody>, delta: object | null, finishReason: string | null, usage: object | null = null) {
  return {
    id: `chatcmpl-fault-${reply.number}`,
    object: 'chat.completion.chunk',
    created: reply.created,
    model: reply.body.model,
    choices: delta ? [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] : [],
    usage,
  };
}

/** `POST /v1/chat/completions`, plain and streamed. */
export const chatCompletions: Endpoint<ChatRequestBody> = {
  path: '/v1/chat/completions',
  validate: validateChatRequest,
  promptTokens: promptTokensOf,
  outputTokensForRateLimit: (body) => outputTokensCounted(body.max_completion_tokens ?? body.max_tokens, body.n),
  replyText: (body, defaultTokens, number) => replyText(body.max_completion_tokens ?? body.max_tokens, defaultTokens, number),
  answer: (reply) => ({
    id: `chatcmpl-fault-${reply.number}`,
    object: 'chat.completion',
    created: reply.created,
    model: reply.body.model,
    choices: [
      { index: 0, message: { role: 'assistant', content: reply.words.join(' '), refusal: null }, logprobs: null, finish_reason: finishReasonOf(reply) },
    ],
    usage: usageOf(reply),
    system_fingerprint: 'fp_fault_upstream',
  }),
  stream: {
    requested: (body) => Boolean(body.stream),
    events(reply) {
      const events: SseEvent[] = [{ data: chunk(reply, { role: 'assistant', content: '' }, null) }];
      reply.words.forEach((word, index) => events.push({ data: chunk(reply, { content: index === 0 ? word : ` ${word}` }, null) }));
      events.push({ data: chunk(reply, {}, finishReasonOf(reply)) });
      if (reply.body.stream_options?.include_usage) events.push({ data: chunk(reply, null, null, usageOf(reply)) });
      return events;
    },
    // The opening chunk (role, no text yet), then the error object OpenAI sends in a failing stream.
    failingEvents: (reply, error) => [
      { data: chunk(reply, { role: 'assistant', content: '' }, null) },
      { data: openAiError(error.message, error.type, error.code) },
    ],
    endsWithDone: true,
    eventsBeforeText: 1,
  },
};
