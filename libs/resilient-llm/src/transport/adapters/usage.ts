import type { TokenUsage } from '../../pricing/model-price.interface.js';
import { type JsonBody, asObject, tokenCount } from './endpoint-adapter.js';

/** Totals and their parts, with each part at most what is left of its total. */
function normalised(input: number, output: number, parts: { cached?: number; written?: number; reasoning?: number }): TokenUsage {
  const usage: TokenUsage = { inputTokens: input, outputTokens: output };
  const cached = Math.min(parts.cached ?? 0, input);
  const written = Math.min(parts.written ?? 0, input - cached);
  const reasoning = Math.min(parts.reasoning ?? 0, output);
  if (cached > 0) usage.cachedInputTokens = cached;
  if (written > 0) usage.cacheWriteTokens = written;
  if (reasoning > 0) usage.reasoningTokens = reasoning;
  return usage;
}

/**
 * Responses API usage (`input_tokens` with `input_tokens_details.cached_tokens` in it), or
 * Anthropic-shaped usage, whose `cache_read_input_tokens` and `cache_creation_input_tokens` are
 * NOT part of `input_tokens`: they are added to make the total.
 */
export function responsesUsage(raw: JsonBody | undefined): TokenUsage | undefined {
  if (!raw) return undefined;
  const input = tokenCount(raw.input_tokens);
  const output = tokenCount(raw.output_tokens);
  if (input === undefined || output === undefined) return undefined;
  const inputDetails = asObject(raw.input_tokens_details);
  const reasoning = tokenCount(asObject(raw.output_tokens_details)?.reasoning_tokens);
  const read = tokenCount(raw.cache_read_input_tokens);
  const written = tokenCount(raw.cache_creation_input_tokens);
  if (!inputDetails && (read !== undefined || written !== undefined)) {
    return normalised(input + (read ?? 0) + (written ?? 0), output, { cached: read, written, reasoning });
  }
  return normalised(input, output, { cached: tokenCount(inputDetails?.cached_tokens), reasoning });
}

/**
 * Chat completions usage: `prompt_tokens` counts every input token, cached ones
 * (`prompt_tokens_details.cached_tokens`) included; `completion_tokens` counts reasoning
 * (`completion_tokens_details.reasoning_tokens`). Gateways that pass Anthropic's cache fields
 * along count them in `prompt_tokens` too; a total smaller than its parts is raised to them.
 */
export function chatUsage(raw: JsonBody | undefined): TokenUsage | undefined {
  if (!raw) return undefined;
  if (raw.prompt_tokens === undefined && raw.input_tokens !== undefined) return responsesUsage(raw);
  const input = tokenCount(raw.prompt_tokens);
  const output = tokenCount(raw.completion_tokens);
  if (input === undefined || output === undefined) return undefined;
  const cached = tokenCount(asObject(raw.prompt_tokens_details)?.cached_tokens) ?? tokenCount(raw.cache_read_input_tokens) ?? 0;
  const written = tokenCount(raw.cache_creation_input_tokens) ?? 0;
  const reasoning = tokenCount(asObject(raw.completion_tokens_details)?.reasoning_tokens);
  return normalised(Math.max(input, cached + written), output, { cached, written, reasoning });
}

/** Embeddings usage: input only. */
export function embeddingsUsage(raw: JsonBody | undefined): TokenUsage | undefined {
  const inputTokens = tokenCount(raw?.prompt_tokens) ?? tokenCount(raw?.total_tokens);
  return inputTokens === undefined ? undefined : { inputTokens, outputTokens: 0 };
}
