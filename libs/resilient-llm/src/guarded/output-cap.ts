import { checkNumber } from '../errors/option-checks.js';

/** The cap set on a request that has none, unless the module or the handler says otherwise. */
export const DEFAULT_MAX_OUTPUT_TOKENS = 4_096;
export const MAX_OUTPUT_TOKENS_LIMIT = 1_000_000;

/** A cap on what one request may produce: a whole number of tokens from 1 to 1 000 000. */
export function checkMaxOutputTokens(path: string, value: unknown): number {
  return checkNumber(path, value, { integer: true, unit: 'tokens', min: 1, max: MAX_OUTPUT_TOKENS_LIMIT, fromTo: true });
}
