import { ResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';

/** The cap set on a request that has none, unless the module or the handler says otherwise. */
export const DEFAULT_MAX_OUTPUT_TOKENS = 4_096;
export const MAX_OUTPUT_TOKENS_LIMIT = 1_000_000;

/** A cap on what one request may produce: a whole number of tokens from 1 to 1 000 000. */
export function checkMaxOutputTokens(path: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > MAX_OUTPUT_TOKENS_LIMIT) {
    throw new ResilientLlmConfigurationError(path, `must be a whole number of tokens from 1 to ${MAX_OUTPUT_TOKENS_LIMIT}, got ${String(value)}`);
  }
  return value;
}
