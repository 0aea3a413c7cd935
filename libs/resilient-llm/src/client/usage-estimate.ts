import type OpenAI from 'openai';

const textOf = (content: unknown): string =>
  typeof content === 'string'
    ? content
    : Array.isArray(content)
      ? content.map((part: { text?: unknown }) => (typeof part?.text === 'string' ? part.text : '')).join(' ')
      : '';

/**
 * An upper-leaning guess of the prompt's tokens, for reserving before a request and for
 * settling a stream that ended without a usage report: ~3 characters a token (tokenizers
 * average 4 on English) plus per-message framing.
 */
export function estimatePromptTokens(messages: ReadonlyArray<OpenAI.Chat.ChatCompletionMessageParam>): number {
  return 3 + messages.reduce((sum, message) => sum + 4 + Math.ceil(textOf(message.content).length / 3), 0);
}

/** The request's own cap on completion tokens, if it set one. */
export function maxCompletionTokens(request: { max_completion_tokens?: number | null; max_tokens?: number | null }): number | undefined {
  return request.max_completion_tokens ?? request.max_tokens ?? undefined;
}

/** Token counts from a usage block; undefined when the upstream sent none or sent nonsense. */
export function tokensOf(usage: OpenAI.CompletionUsage | null | undefined): { inputTokens: number; outputTokens: number } | undefined {
  const inputTokens = usage?.prompt_tokens;
  const outputTokens = usage?.completion_tokens;
  if (!Number.isSafeInteger(inputTokens) || !Number.isSafeInteger(outputTokens) || inputTokens! < 0 || outputTokens! < 0) return undefined;
  return { inputTokens: inputTokens!, outputTokens: outputTokens! };
}
