import type { Fault } from './fault-script.js';

export interface ChatRequestBody {
  model: string;
  messages: Array<{ role: string; content: unknown }>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  max_completion_tokens?: number;
}

const WORDS = ['resilient', 'calls', 'retry', 'with', 'jitter', 'and', 'budgets', 'keep', 'spend', 'bounded', 'under', 'load'];

const textOf = (content: unknown): string =>
  typeof content === 'string'
    ? content
    : Array.isArray(content)
      ? content.map((part) => (typeof part?.text === 'string' ? part.text : '')).join(' ')
      : '';

/** Roughly what a BPE tokenizer counts: ~4 characters a token, plus per-message framing. */
export function promptTokensOf(body: ChatRequestBody): number {
  return 3 + body.messages.reduce((sum, message) => sum + 3 + Math.ceil(textOf(message.content).length / 4), 0);
}

export function replyWords(body: ChatRequestBody, defaultTokens: number, requestNumber: number): string[] {
  const limit = body.max_completion_tokens ?? body.max_tokens ?? defaultTokens;
  const count = Math.max(1, Math.min(defaultTokens, limit));
  return Array.from({ length: count }, (_, index) => WORDS[(requestNumber + index) % WORDS.length]);
}

export function validateChatRequest(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return 'the request body must be a JSON object';
  const { model, messages } = body as Record<string, unknown>;
  if (typeof model !== 'string' || model === '') return "'model' is required";
  if (!Array.isArray(messages) || messages.length === 0) return "'messages' must be a non-empty array";
  return undefined;
}

interface ErrorAnswer {
  status: number;
  type: string;
  code: string | null;
  message: string;
}

const ERROR_ANSWERS: Partial<Record<Fault['kind'], ErrorAnswer>> = {
  '400': { status: 400, type: 'invalid_request_error', code: null, message: 'Simulated bad request.' },
  '401': { status: 401, type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided: sk-simu***ated.' },
  '403': { status: 403, type: 'permission_error', code: null, message: 'Simulated permission denied.' },
  '404': { status: 404, type: 'invalid_request_error', code: 'model_not_found', message: 'Simulated unknown model.' },
  '408': { status: 408, type: 'timeout', code: null, message: 'Simulated request timeout.' },
  '409': { status: 409, type: 'conflict', code: null, message: 'Simulated conflict.' },
  '422': { status: 422, type: 'invalid_request_error', code: null, message: 'Simulated unprocessable entity.' },
  '429': { status: 429, type: 'requests', code: 'rate_limit_exceeded', message: 'Simulated rate limit reached.' },
  insufficient_quota: { status: 429, type: 'insufficient_quota', code: 'insufficient_quota', message: 'You exceeded your current quota.' },
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

export function faultHeaders(fault: Fault, nowMs: number): Record<string, string> {
  const headers: Record<string, string> = {};
  if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
  if (fault.retryAfterDateSeconds !== undefined) headers['retry-after'] = new Date(nowMs + fault.retryAfterDateSeconds * 1000).toUTCString();
  if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(fault.retryAfterMs);
  if (fault.shouldRetry !== undefined) headers['x-should-retry'] = String(fault.shouldRetry);
  return headers;
}
