import { createHash } from 'node:crypto';

export const MAX_KEY_LENGTH = 255;

export type KeyParse = { ok: true; key: string } | { ok: false; reason: string } | { ok: 'absent' };

/**
 * An `Idempotency-Key` header value: a raw token (Stripe) or an RFC 8941 string (the IETF
 * draft's `"..."`), 1-255 printable ASCII characters.
 */
export function parseIdempotencyKey(header: string | string[] | undefined): KeyParse {
  if (header === undefined) return { ok: 'absent' };
  if (Array.isArray(header)) return header.length === 1 ? parseIdempotencyKey(header[0]) : { ok: false, reason: 'the header appears more than once' };
  const quoted = /^"(.*)"$/s.exec(header);
  const key = quoted ? quoted[1].replace(/\\(["\\])/g, '$1') : header;
  if (key.length === 0) return { ok: false, reason: 'the key is empty' };
  if (key.length > MAX_KEY_LENGTH) return { ok: false, reason: `the key is ${key.length} characters long; at most ${MAX_KEY_LENGTH} are allowed` };
  if (!/^[\x20-\x7e]+$/.test(key)) return { ok: false, reason: 'the key may hold printable ASCII characters only' };
  return { ok: true, key };
}

/** JSON with object keys sorted at every level, so that `{a,b}` and `{b,a}` fingerprint alike. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, field]) => field !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([name, field]) => `${JSON.stringify(name)}:${canonicalJson(field)}`).join(',')}}`;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** What makes two requests "the same": method, path with query, caller scope and body. */
export function requestFingerprint(request: { method: string; path: string; scope: string; body: string }): string {
  return sha256(`${request.method.toUpperCase()} ${request.path}\n${request.scope}\n${request.body}`);
}

/** The record id: one key per caller scope, so tenants never share a key's response. */
export const recordId = (scope: string, key: string): string => sha256(`${scope}\n${key}`);

/**
 * The key sent upstream for the n-th LLM request of a guarded call: stable across the call's
 * retries (so a provider can deduplicate them), distinct per tenant and per request.
 */
export const upstreamIdempotencyKey = (base: string, requestIndex: number): string => `rllm-${sha256(base).slice(0, 32)}-${requestIndex}`;
