import { billedTokens } from './billed-tokens.js';
import type { Fault } from './fault-script.js';

const WORDS = ['resilient', 'calls', 'retry', 'with', 'jitter', 'and', 'budgets', 'keep', 'spend', 'bounded', 'under', 'load'];

/** The text of a message's content: a string, or parts (`text`, `input_text`, ...) that carry `text`. */
const textOf = (content: unknown): string =>
  typeof content === 'string'
    ? content
    : Array.isArray(content)
      ? content.map((part) => (typeof part?.text === 'string' ? part.text : '')).join(' ')
      : '';

/** Roughly what a BPE tokenizer counts: ~4 characters a token, plus per-message framing. */
/** OpenAI's chat framing (3 a message, its role, 3 to prime the reply) around the billed tokens of the text. */
export function promptTokensOf(body: { messages: Array<{ role?: unknown; content?: unknown }> }): number {
  return 3 + body.messages.reduce((sum, message) => sum + 3 + (typeof message.role === 'string' ? billedTokens(message.role) : 0) + billedTokens(textOf(message.content)), 0);
}

/** The reply, one word a token: the script's length, cut at the request's limit (`truncated` then). */
export interface ReplyText {
  words: string[];
  truncated: boolean;
}

export function replyText(limit: number | null | undefined, defaultTokens: number, requestNumber: number): ReplyText {
  const truncated = typeof limit === 'number' && limit < defaultTokens;
  const count = Math.max(1, truncated ? limit : defaultTokens);
  return { words: Array.from({ length: count }, (_, index) => WORDS[(requestNumber + index) % WORDS.length]), truncated };
}

export function openAiError(message: string, type: string, code: string | null) {
  return { error: { message, type, param: null, code } };
}

export interface ErrorAnswer {
  status: number;
  type: string;
  code: string | null;
  message: string;
}

const INSUFFICIENT_QUOTA: ErrorAnswer = { status: 429, type: 'insufficient_quota', code: 'insufficient_quota', message: 'You exceeded your current quota.' };

const ERROR_ANSWERS: Partial<Record<Fault['kind'], ErrorAnswer>> = {
  '400': { status: 400, type: 'invalid_request_error', code: null, message: 'Simulated bad request.' },
  '401': { status: 401, type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided: sk-simu***ated.' },
  '403': { status: 403, type: 'permission_error', code: null, message: 'Simulated permission denied.' },
  '404': { status: 404, type: 'invalid_request_error', code: 'model_not_found', message: 'Simulated unknown model.' },
  '408': { status: 408, type: 'timeout', code: null, message: 'Simulated request timeout.' },
  '409': { status: 409, type: 'conflict', code: null, message: 'Simulated conflict.' },
  '422': { status: 422, type: 'invalid_request_error', code: null, message: 'Simulated unprocessable entity.' },
  '429': { status: 429, type: 'requests', code: 'rate_limit_exceeded', message: 'Simulated rate limit reached.' },
  insufficient_quota: INSUFFICIENT_QUOTA,
  context_length: {
    status: 400,
    type: 'invalid_request_error',
    code: 'context_length_exceeded',
    message: "This model's maximum context length was exceeded (simulated).",
  },
  '500': { status: 500, type: 'server_error', code: null, message: 'Simulated internal server error.' },
  '502': { status: 502, type: 'server_error', code: null, message: 'Simulated bad gateway.' },
  '503': { status: 503, type: 'server_error', code: null, message: 'Simulated overload: the engine is currently overloaded.' },
  '504': { status: 504, type: 'server_error', code: null, message: 'Simulated gateway timeout.' },
};

export function errorAnswerFor(fault: Fault): ErrorAnswer | undefined {
  return ERROR_ANSWERS[fault.kind];
}

/**
 * The error a `stream_error` fault sends inside a 200 stream: its `code`, `server_error` unless told.
 * A request that asked for no stream has no stream to fail inside, so it gets this as a plain answer:
 * a 429 when the code is `insufficient_quota` (as the `insufficient_quota` fault answers), else a 500.
 */
export function streamErrorFor(fault: Fault): ErrorAnswer {
  const code = fault.code ?? 'server_error';
  if (code === 'insufficient_quota') return INSUFFICIENT_QUOTA;
  const message = code === 'server_error' ? 'The server had an error while processing your request (simulated).' : `Simulated error in the stream: ${code}.`;
  return { status: 500, type: 'server_error', code, message };
}

export function faultHeaders(fault: Fault, nowMs: number): Record<string, string> {
  const headers: Record<string, string> = {};
  if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
  if (fault.retryAfterDateSeconds !== undefined) headers['retry-after'] = new Date(nowMs + fault.retryAfterDateSeconds * 1000).toUTCString();
  if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(fault.retryAfterMs);
  if (fault.shouldRetry !== undefined) headers['x-should-retry'] = String(fault.shouldRetry);
  return headers;
}
