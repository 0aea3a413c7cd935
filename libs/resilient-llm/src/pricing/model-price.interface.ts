import type { EncodingName } from '../tokenizer/prompt-tokenizer.js';

/**
 * A model's price in US dollars per million tokens, for the module's `pricing` option: it
 * replaces the bundled table's entry for that model (or prices a model the table lacks).
 */
export interface ModelPrice {
  /** Input (prompt) tokens. */
  inputUsdPerMTok: number;
  /** Output tokens, reasoning included unless `reasoningUsdPerMTok` is given. */
  outputUsdPerMTok: number;
  /** Input tokens read from the provider's prompt cache. Default: the table's rate, else `inputUsdPerMTok`. */
  cachedInputUsdPerMTok?: number;
  /** Input tokens written to the prompt cache (Anthropic-style caching). Default: the table's rate, else `inputUsdPerMTok`. */
  cacheWriteUsdPerMTok?: number;
  /** Reasoning tokens, where the provider bills them apart from output. Default: the table's rate, else `outputUsdPerMTok`. */
  reasoningUsdPerMTok?: number;
  /**
   * The OpenAI encoding the model's prompts are counted with, for a name that does not tell
   * (an Azure deployment, a relay's alias). Without it, names of OpenAI's families are counted
   * exactly and every other model is bounded by the UTF-8 bytes of its prompt.
   */
  encoding?: EncodingName;
}

/**
 * Tokens one completion used, normalised across endpoints so that nothing is counted twice:
 * `inputTokens` and `outputTokens` are the totals, the other fields are parts of them.
 */
export interface TokenUsage {
  /** Every input token: uncached, read from cache and written to cache. */
  inputTokens: number;
  /** Every output token, reasoning included. */
  outputTokens: number;
  /** Of `inputTokens`, read from the prompt cache. */
  cachedInputTokens?: number;
  /** Of `inputTokens`, written to the prompt cache. */
  cacheWriteTokens?: number;
  /** Of `outputTokens`, spent reasoning. */
  reasoningTokens?: number;
}
