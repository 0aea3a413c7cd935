import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';

// BPE on one long piece is quadratic (100,000 characters without a space take seconds): such a
// text is billed by its UTF-8 bytes, which is what the module reserves for it too.
const LONG_RUN = /\S{256}/;

/**
 * Tokens of a text as a provider bills them: o200k_base (gpt-4o, 4.1, 5.x, o-series), exact, as
 * the module counts prompts before it sends them. The upstream used to bill ~characters / 4,
 * which is more than the real count for plain English and would bill past a reservation that
 * the real provider would never exceed.
 */
export function billedTokens(text: string): number {
  if (text === '') return 0;
  return LONG_RUN.test(text) ? Buffer.byteLength(text, 'utf8') : countTokens(text);
}
