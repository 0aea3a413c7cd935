import type { ErrorAnswer, ReplyText } from './openai-responses.js';

/** One server-sent event: `event:` names it in the Responses API; chat chunks come unnamed. */
export interface SseEvent {
  event?: string;
  data: unknown;
}

/** A request the upstream decided to answer, before an endpoint shapes the answer. */
export interface Reply<Body> extends ReplyText {
  body: Body;
  /** 1, 2, 3... over the upstream's life: the ids (`chatcmpl-fault-N`, `resp_fault_N`) use it. */
  number: number;
  /** Epoch seconds. */
  created: number;
  promptTokens: number;
}

/**
 * What differs between `/v1/chat/completions`, `/v1/responses` and `/v1/embeddings`. The server
 * does the rest the same way for all of them: faults, latency, counters.
 */
export interface Endpoint<Body extends { model: string }> {
  readonly path: string;
  /** Why the body is refused with a 400, or undefined when it is a `Body`. */
  validate(body: unknown): string | undefined;
  promptTokens(body: Body): number;
  /** Output tokens a tokens-per-minute limit counts before the request runs (see `outputTokensCounted`); 0 when it generates none. */
  outputTokensForRateLimit(body: Body): number;
  /** The reply's words; none for an endpoint that answers without text (embeddings). */
  replyText(body: Body, defaultTokens: number, requestNumber: number): ReplyText;
  /** The JSON answer to a request that asked for no stream. */
  answer(reply: Reply<Body>): unknown;
  /** How it streams when asked to; none: it never does (embeddings). */
  readonly stream?: StreamShape<Body>;
}

export interface StreamShape<Body> {
  requested(body: Body): boolean;
  /** The events of a stream that succeeds. */
  events(reply: Reply<Body>): SseEvent[];
  /** The events of a stream that starts and then fails with `error` (a `stream_error` fault). */
  failingEvents(reply: Reply<Body>, error: ErrorAnswer): SseEvent[];
  /** Chat streams end with `data: [DONE]`; Responses streams just end. */
  readonly endsWithDone: boolean;
  /** Events of `events()` before the first word (one word per event after them): what a stream cut short had generated. */
  readonly eventsBeforeText: number;
}
