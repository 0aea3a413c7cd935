import { createHash, randomBytes } from 'node:crypto';

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

/**
 * The deepest nesting of arrays and objects a fingerprinted body may have. JSON.parse takes
 * far deeper input than any real request needs; past this the request is refused with 400.
 */
export const MAX_IDEMPOTENT_BODY_DEPTH = 512;

/** The canonical text, or the depth limit the value goes past. */
export type CanonicalJson = { ok: true; json: string } | { ok: false; maxDepth: number };

/** A value still to write, under `depth` enclosing arrays and objects. */
interface Pending {
  value: unknown;
  depth: number;
}

const compareNames = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * JSON with object keys sorted at every level, so that `{a,b}` and `{b,a}` fingerprint alike.
 * Built with an explicit stack, not recursion: a body nested 100 000 deep is refused, not a
 * stack overflow. `maxDepth` counts arrays and objects, the outermost one being level 1.
 */
export function canonicalJson(root: unknown, maxDepth = MAX_IDEMPOTENT_BODY_DEPTH): CanonicalJson {
  const parts: string[] = [];
  // Punctuation to write (strings) and values to expand, the next one on top.
  const stack: Array<string | Pending> = [{ value: root, depth: 0 }];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (typeof next === 'string') {
      parts.push(next);
      continue;
    }
    const { value, depth } = next;
    if (value === null || typeof value !== 'object') {
      parts.push(value === undefined ? 'null' : (JSON.stringify(value) ?? 'null'));
      continue;
    }
    if (depth >= maxDepth) return { ok: false, maxDepth };
    if (Array.isArray(value)) {
      parts.push('[');
      stack.push(']');
      for (let index = value.length - 1; index >= 0; index--) {
        stack.push({ value: value[index], depth: depth + 1 });
        if (index > 0) stack.push(',');
      }
      continue;
    }
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, field]) => field !== undefined)
      .sort(compareNames);
    parts.push('{');
    stack.push('}');
    for (let index = entries.length - 1; index >= 0; index--) {
      const [name, field] = entries[index];
      stack.push({ value: field, depth: depth + 1 });
      stack.push(`${index > 0 ? ',' : ''}${JSON.stringify(name)}:`);
    }
  }
  return { ok: true, json: parts.join('') };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** What makes two requests "the same": method, path with query, caller scope and body. */
export function requestFingerprint(request: { method: string; path: string; scope: string; body: string }): string {
  return sha256(`${request.method.toUpperCase()} ${request.path}\n${request.scope}\n${request.body}`);
}

/** The record id: one key per caller scope, so tenants never share a key's response. */
export const recordId = (scope: string, key: string): string => sha256(`${scope}\n${key}`);

/**
 * What a guarded call's upstream keys start with: derived from the request's idempotency record
 * (so that a replayed request sends the same keys), else random, once per call.
 */
export const upstreamKeyBase = (recordId: string | undefined): string => (recordId === undefined ? uniqueKeyBase() : sha256(recordId).slice(0, 32));

// 64 random bits per process and a counter: unique per call, without a random UUID per call.
// Drawn at the first call, not at load: a startup snapshot must not give every process one prefix.
let processKeyPrefix: string | undefined;
let keyBases = 0;
const uniqueKeyBase = () => (processKeyPrefix ??= randomBytes(8).toString('hex')) + (keyBases++).toString(16).padStart(16, '0');

/**
 * The key sent upstream for the n-th LLM request of a guarded call: stable across the call's
 * retries (so a provider can deduplicate them), distinct per tenant and per request.
 */
export const upstreamIdempotencyKey = (keyBase: string, requestIndex: number): string => `rllm-${keyBase}-${requestIndex}`;
