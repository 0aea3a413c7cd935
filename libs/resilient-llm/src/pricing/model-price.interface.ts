/** A model's list price, in US dollars per million tokens. */
export interface ModelPrice {
  inputUsdPerMTok: number;
  outputUsdPerMTok: number;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

/** Public list prices (USD per million tokens) for common models; override or extend them with `pricing`. */
export const DEFAULT_MODEL_PRICES: Readonly<Record<string, ModelPrice>> = Object.freeze({
  'gpt-4.1': { inputUsdPerMTok: 2, outputUsdPerMTok: 8 },
  'gpt-4.1-mini': { inputUsdPerMTok: 0.4, outputUsdPerMTok: 1.6 },
  'gpt-4.1-nano': { inputUsdPerMTok: 0.1, outputUsdPerMTok: 0.4 },
  'gpt-4o': { inputUsdPerMTok: 2.5, outputUsdPerMTok: 10 },
  'gpt-4o-mini': { inputUsdPerMTok: 0.15, outputUsdPerMTok: 0.6 },
  'claude-3-5-sonnet': { inputUsdPerMTok: 3, outputUsdPerMTok: 15 },
  'claude-3-5-haiku': { inputUsdPerMTok: 0.8, outputUsdPerMTok: 4 },
  'deepseek-v3.2': { inputUsdPerMTok: 0.28, outputUsdPerMTok: 0.42 },
});
