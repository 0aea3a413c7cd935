import { Logger } from '@nestjs/common';
import { Buffer } from 'node:buffer';

/** OpenAI's byte-pair encodings, counted exactly with `gpt-tokenizer`. */
export const ENCODINGS = ['o200k_base', 'cl100k_base'] as const;
export type EncodingName = (typeof ENCODINGS)[number];

/**
 * How a prompt's tokens are counted: exactly with an OpenAI encoding, or bounded from above by
 * the UTF-8 bytes of the text (no byte-level BPE token is shorter than one byte, and a
 * SentencePiece token with byte fallback covers at least one byte too).
 */
export interface PromptTokenizer {
  readonly name: EncodingName | 'utf8_bytes';
  /** True when `count` is the provider's own count; false for the upper bound. */
  readonly exact: boolean;
  count(text: string): number;
  /** Tokens of a chat message's frame around its role and content (`<|start|>{role}<|message|>...<|end|>`). */
  readonly perMessage: number;
  /** Tokens a `name` on a message adds besides its text. */
  readonly perName: number;
  /** Tokens that prime the reply (`<|start|>assistant<|message|>`), once per request. */
  readonly perReply: number;
}

// gpt-4o, gpt-4.1, gpt-4.5, gpt-5.x, the o-series and their dated snapshots and fine-tunes.
const O200K = /^(?:ft:)?(?:gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o[134](?:-|$)|codex-mini|computer-use)/;
// gpt-4 (and -turbo, -32k), gpt-3.5-turbo, the text-embedding-3 and ada-002 embeddings.
const CL100K = /^(?:ft:)?(?:gpt-4|gpt-3\.5|gpt-35|text-embedding-3|text-embedding-ada-002)/;

/** The encoding OpenAI uses for `model` ("openai/gpt-4o" too); undefined for other families. */
export function encodingOf(model: string): EncodingName | undefined {
  const name = model.toLowerCase().replace(/^openai[/:]/, '');
  if (O200K.test(name)) return 'o200k_base';
  if (CL100K.test(name)) return 'cl100k_base';
  return undefined;
}

type CountTokens = (text: string, options: { disallowedSpecial: Set<string> }) => number;

const loaded = new Map<EncodingName, CountTokens>();
const loading = new Map<EncodingName, Promise<void>>();
// Text is counted as text: "<|endoftext|>" in a prompt is not a special token to the API either.
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

// Literal specifiers, so that bundlers (the Nest CLI's webpack or rspack) see and keep them.
const IMPORTERS: Record<EncodingName, () => Promise<{ countTokens: CountTokens }>> = {
  o200k_base: () => import('gpt-tokenizer/encoding/o200k_base'),
  cl100k_base: () => import('gpt-tokenizer/encoding/cl100k_base'),
};
const failed = new Set<EncodingName>();
const logger = new Logger('ResilientLlmTokenizer');

/**
 * Loads an encoding's ranks (a few MB, some hundred ms) once per process. Undefined when there
 * is nothing to wait for: loaded already, or failed (then prompts are bounded by their bytes,
 * never under-counted, and the failure is logged once rather than retried on every request).
 */
export function loadEncoding(name: EncodingName): Promise<void> | undefined {
  if (loaded.has(name) || failed.has(name)) return undefined;
  let pending = loading.get(name);
  if (!pending) {
    pending = IMPORTERS[name]().then(
      (module) => void loaded.set(name, module.countTokens),
      (error: unknown) => {
        failed.add(name);
        logger.warn(`Could not load the ${name} encoding (${(error as Error).message}): prompts of its models are reserved by their UTF-8 bytes, about 4x their tokens in English.`);
      },
    );
    loading.set(name, pending);
  }
  return pending;
}

export const isEncodingLoaded = (name: EncodingName): boolean => loaded.has(name);

// Long texts that come back (a system prompt, a conversation's history, retries) are counted once.
const CACHED_MIN_CHARS = 256;
// BPE on one long piece is quadratic: 100,000 characters without a space took 14 s here, with the
// event loop blocked. A text with such a run is counted by its UTF-8 bytes, an upper bound.
const LONG_RUN = /\S{256}/;
const CACHE_MAX_CHARS = 4_000_000;

class CountCache {
  private readonly counts = new Map<string, number>();
  private chars = 0;

  get(text: string): number | undefined {
    const count = this.counts.get(text);
    if (count !== undefined) {
      this.counts.delete(text);
      this.counts.set(text, count);
    }
    return count;
  }

  set(text: string, count: number): void {
    if (text.length > CACHE_MAX_CHARS / 4) return;
    this.counts.set(text, count);
    this.chars += text.length;
    for (const oldest of this.counts.keys()) {
      if (this.chars <= CACHE_MAX_CHARS) break;
      this.counts.delete(oldest);
      this.chars -= oldest.length;
    }
  }
}

// OpenAI's chat format (its cookbook's num_tokens_from_messages): 3 a message, 1 a name, 3 to prime the reply.
function exactTokenizer(name: EncodingName, countTokens: CountTokens): PromptTokenizer {
  const cache = new CountCache();
  return {
    name,
    exact: true,
    perMessage: 3,
    perName: 1,
    perReply: 3,
    count(text) {
      if (text.length < CACHED_MIN_CHARS) return text === '' ? 0 : countTokens(text, PLAIN_TEXT);
      const cached = cache.get(text);
      if (cached !== undefined) return cached;
      const count = LONG_RUN.test(text) ? Buffer.byteLength(text, 'utf8') : countTokens(text, PLAIN_TEXT);
      cache.set(text, count);
      return count;
    },
  };
}

/**
 * The bound for every other family (Claude, Gemini, DeepSeek, Llama, Mistral...): UTF-8 bytes,
 * plus a frame larger than the chat templates these models use (Llama 3, ChatML, Gemma: 4 or 5
 * tokens a message besides the role, about 5 to open the reply).
 */
export const UTF8_BYTES: PromptTokenizer = Object.freeze({
  name: 'utf8_bytes',
  exact: false,
  perMessage: 8,
  perName: 1,
  perReply: 16,
  count: (text: string) => Buffer.byteLength(text, 'utf8'),
});

const exact = new Map<EncodingName, PromptTokenizer>();

/**
 * The tokenizer for `model`: exact for OpenAI's families once their encoding is loaded (see
 * `loadEncoding`), the UTF-8 bound otherwise. `encoding` names one for a model the name does
 * not tell (an Azure deployment, a relay's alias), from the model's `pricing` entry.
 */
export function promptTokenizerFor(model: string, encoding: EncodingName | undefined = encodingOf(model)): PromptTokenizer {
  if (!encoding) return UTF8_BYTES;
  let tokenizer = exact.get(encoding);
  if (tokenizer) return tokenizer;
  const countTokens = loaded.get(encoding);
  if (!countTokens) {
    void loadEncoding(encoding);
    return UTF8_BYTES;
  }
  tokenizer = exactTokenizer(encoding, countTokens);
  exact.set(encoding, tokenizer);
  return tokenizer;
}
