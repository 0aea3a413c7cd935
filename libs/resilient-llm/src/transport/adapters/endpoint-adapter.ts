import type { TokenUsage } from '../../pricing/model-price.interface.js';

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

/**
 * What the guarded transport needs to know of one endpoint: what a request may cost before
 * it is sent, and what its answer used. A new endpoint needs an adapter, not a new client.
 */
export interface EndpointAdapter {
  /** `gen_ai.operation.name`. */
  readonly operation: string;
  /** Whether this adapter speaks for the request path (e.g. `/v1/chat/completions`). */
  matches(path: string): boolean;
  /** The request as it should be sent (e.g. asking a stream for its usage). */
  prepare(body: JsonBody): JsonBody;
  isStream(body: JsonBody): boolean;
  /** An upper-leaning count of the prompt's tokens. */
  promptTokens(body: JsonBody): number;
  /** The request's own cap on output tokens; 0 when the endpoint produces none; undefined when unset. */
  outputCap(body: JsonBody): number | undefined;
  /** Usage of a plain (not streamed) answer; undefined when it reports none. */
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

export function usageFrom(input: unknown, output: unknown): TokenUsage | undefined {
  const inputTokens = tokenCount(input);
  const outputTokens = tokenCount(output);
  return inputTokens === undefined || outputTokens === undefined ? undefined : { inputTokens, outputTokens };
}

/** The text of a message's content: a string, or the `text` of its parts. */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part: { text?: unknown }) => (typeof part?.text === 'string' ? part.text : '')).join(' ');
}

/**
 * ~3 characters a token (tokenizers average 4 on English), so the guess leans high; used to
 * reserve before a request and to settle an answer that reported no usage.
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
