import type { TokenUsage } from '../../pricing/model-price.interface.js';
import type { PromptTokenizer } from '../../tokenizer/prompt-tokenizer.js';

export type JsonBody = Record<string, unknown>;

/** One server-sent event of a streamed answer: its `event:` name (if any) and its parsed `data:`. */
export interface StreamEvent {
  event?: string;
  data: JsonBody;
}

/** What one event of a stream says: usage, a piece of output, an error reported inside a 200 stream. */
export interface StreamEventReading {
  usage?: TokenUsage;
  outputDelta?: boolean;
  error?: { code?: string; message?: string };
  responseModel?: string;
  responseId?: string;
}

/** A request's prompt, counted before it is sent. */
export interface PromptCount {
  tokens: number;
  /** Parts no tokenizer counts (images, audio, files): `tokens` is then a lower bound. */
  uncounted: number;
}

/** What the module sets on a request before it is sent. */
export interface RequestLimits {
  /** The output cap for a request that has none. */
  maxOutputTokens: number;
  /**
   * Set the cap as chat's older `max_tokens`: for models that are not OpenAI's, served by
   * OpenAI-compatible servers that may not know `max_completion_tokens` (and would then ignore it).
   */
  legacyCapField: boolean;
}

/**
 * What the guarded transport needs to know of one endpoint: what a request may cost before
 * it is sent, and what its answer used. A new endpoint needs an adapter, not a new client.
 */
export interface EndpointAdapter {
  /** `gen_ai.operation.name`. */
  readonly operation: string;
  /** Whether this adapter speaks for the request path (e.g. `/v1/chat/completions`). */
  matches(path: string): boolean;
  /** The request as it should be sent: with an output cap when it has none, a stream asked for its usage. */
  prepare(body: JsonBody, limits: RequestLimits): JsonBody;
  isStream(body: JsonBody): boolean;
  /** The prompt's tokens, as `tokenizer` counts them (exactly for OpenAI's encodings, else an upper bound). */
  promptTokens(body: JsonBody, tokenizer: PromptTokenizer): PromptCount;
  /** The request's own cap on output tokens; 0 when the endpoint produces none; undefined when unset. */
  outputCap(body: JsonBody): number | undefined;
  /** Usage of a plain (not streamed) answer, normalised; undefined when it reports none. */
  usageOf(answer: JsonBody): TokenUsage | undefined;
  /** Reads one event of a streamed answer. */
  readEvent(event: StreamEvent): StreamEventReading;
  /** Prompt and output, for spans with `telemetry.captureContent` only. */
  contentOf(body: JsonBody, answer?: JsonBody): { input: unknown; output?: unknown };
}

/** A whole number of tokens >= 0, or undefined: usage blocks from the wire are not trusted. */
export function tokenCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** The text of a message's content: a string, or the `text` of its parts. */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part: { text?: unknown }) => (typeof part?.text === 'string' ? part.text : '')).join(' ');
}

/**
 * ~3 characters a token (tokenizers average 4 on English), so the guess leans high: settles an
 * answer that reported no usage, by the length of what it sent.
 */
export const tokensOfText = (text: string): number => Math.ceil(text.length / 3);

export const asObject = (value: unknown): JsonBody | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonBody) : undefined;

/** A JSON object from text, or undefined: an answer's body may be anything. */
export function parseJsonObject(text: string): JsonBody | undefined {
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as JsonBody) : undefined;
  } catch {
    return undefined;
  }
}
