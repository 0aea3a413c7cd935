import { APIConnectionError, APIConnectionTimeoutError, APIUserAbortError } from 'openai';
import { readHeader } from './retry-after.js';

export type FailureKind =
  | 'rate_limited'
  | 'insufficient_quota'
  | 'server_error'
  | 'timeout'
  | 'connection'
  | 'conflict'
  | 'context_length'
  | 'client_error'
  | 'aborted'
  | 'application';

export interface FailureClassification {
  kind: FailureKind;
  retryable: boolean;
  /** The upstream's HTTP status, when there was a response. */
  status?: number;
  /** The upstream's machine-readable error code (`insufficient_quota`, `invalid_api_key`, ...). */
  code?: string;
  headers?: Headers | Record<string, string | string[] | undefined>;
  /** Why it is (not) retried, for error bodies and spans. */
  reason: string;
  /**
   * Set on a timeout during which this process's own event loop stalled this long: the app
   * starved itself, so the upstream is not blamed (no circuit, no retry budget); still retried.
   */
  localStallMs?: number;
}

const RETRYABLE_CONNECTION_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

const CONTEXT_LENGTH_CODES = new Set(['context_length_exceeded', 'string_above_max_length']);

interface ErrorLike {
  name?: unknown;
  status?: unknown;
  code?: unknown;
  type?: unknown;
  headers?: unknown;
  error?: unknown;
  cause?: unknown;
  getStatus?: unknown;
  getResponse?: unknown;
}

function stringField(value: unknown, field: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const found = (value as Record<string, unknown>)[field];
  return typeof found === 'string' ? found : undefined;
}

/** The upstream's error code from the SDK error or its body (`{ error: { code, type } }`). */
function upstreamCode(error: ErrorLike): string | undefined {
  const nested = typeof error.error === 'object' && error.error !== null && 'error' in error.error
    ? (error.error as { error: unknown }).error
    : error.error;
  return (
    (typeof error.code === 'string' ? error.code : undefined) ??
    stringField(nested, 'code') ??
    (typeof error.type === 'string' ? error.type : undefined) ??
    stringField(nested, 'type')
  );
}

/** `instanceof`, or the same class name up the prototype chain: a second copy of `openai` (CJS next to ESM) has other classes. */
function isA(error: unknown, type: abstract new (...args: never[]) => unknown): boolean {
  if (error instanceof type) return true;
  for (let proto = typeof error === 'object' && error !== null ? Object.getPrototypeOf(error) : null; proto; proto = Object.getPrototypeOf(proto)) {
    if (proto.constructor?.name === type.name) return true;
  }
  return false;
}

function networkCode(error: ErrorLike): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as ErrorLike).code;
    if (typeof code === 'string' && RETRYABLE_CONNECTION_CODES.has(code)) return code;
    current = (current as ErrorLike).cause;
  }
  return undefined;
}

function classifyStatus(status: number, code: string | undefined): Pick<FailureClassification, 'kind' | 'retryable' | 'reason'> {
  if (status === 429 && code === 'insufficient_quota') {
    return { kind: 'insufficient_quota', retryable: false, reason: 'the account is out of quota; retrying cannot succeed and may bill again' };
  }
  if (code !== undefined && CONTEXT_LENGTH_CODES.has(code)) {
    return { kind: 'context_length', retryable: false, reason: 'the prompt is longer than the model accepts; retrying sends the same prompt' };
  }
  if (status === 429) return { kind: 'rate_limited', retryable: true, reason: '429 rate limited' };
  if (status === 408) return { kind: 'timeout', retryable: true, reason: '408 request timeout' };
  if (status === 409) return { kind: 'conflict', retryable: true, reason: '409 conflict' };
  if (status >= 500) return { kind: 'server_error', retryable: true, reason: `${status} server error` };
  return { kind: 'client_error', retryable: false, reason: `${status} is a client error; the same request fails the same way` };
}

/**
 * Retry or not, for an error thrown by an attempt. Works on `openai` SDK errors and on
 * anything shaped like them (`status`, `headers`, `code`), and on Node network errors.
 * `x-should-retry` overrides the status rules, except for out-of-quota and context-length
 * failures, which can never succeed on a retry.
 */
export function classifyFailure(error: unknown): FailureClassification {
  const candidate = (typeof error === 'object' && error !== null ? error : {}) as ErrorLike;
  const name = typeof candidate.name === 'string' ? candidate.name : '';

  // A Nest HttpException is the handler's own answer (a 400, a 404, ...), not an upstream failure.
  if (typeof candidate.getStatus === 'function' && typeof candidate.getResponse === 'function') {
    return { kind: 'application', retryable: false, reason: "the handler's own HTTP exception is its answer; it is not retried" };
  }

  if (isA(error, APIUserAbortError) || name === 'AbortError') {
    return { kind: 'aborted', retryable: false, reason: 'the caller aborted the request' };
  }
  if (isA(error, APIConnectionTimeoutError)) {
    return { kind: 'timeout', retryable: true, reason: 'the upstream did not answer before the attempt timeout' };
  }

  const code = upstreamCode(candidate);
  if (typeof candidate.status === 'number') {
    const headers = candidate.headers as FailureClassification['headers'];
    const base = { status: candidate.status, code, headers, ...classifyStatus(candidate.status, code) };
    const override = readHeader(headers, 'x-should-retry');
    if (base.kind === 'insufficient_quota' || base.kind === 'context_length') return base;
    if (override === 'true') return { ...base, retryable: true, reason: `${base.reason}; x-should-retry: true` };
    if (override === 'false') return { ...base, retryable: false, reason: `${base.reason}; x-should-retry: false` };
    return base;
  }

  const network = networkCode(candidate);
  if (isA(error, APIConnectionError) || network !== undefined) {
    return { kind: 'connection', retryable: true, code: network, reason: `connection failed${network ? ` (${network})` : ''}` };
  }
  return { kind: 'application', retryable: false, reason: 'the error did not come from the upstream; it is not retried' };
}

/**
 * An error the upstream reported inside a 200 stream (a Responses `error` event, a chat chunk
 * with `error`): the answer had started, and may be billed, so it is never sent again.
 */
export function classifyStreamError(code: string | undefined): FailureClassification {
  const kind: FailureKind = code === 'insufficient_quota' ? 'insufficient_quota' : code !== undefined && CONTEXT_LENGTH_CODES.has(code) ? 'context_length' : 'server_error';
  return { kind, retryable: false, status: 200, code, reason: `the upstream reported ${code ?? 'an error'} inside its stream; a started answer is never sent again` };
}
