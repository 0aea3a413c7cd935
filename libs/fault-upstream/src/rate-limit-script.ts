import { FaultScriptError } from './fault-script-error.js';

/**
 * A provider's rate limit, as OpenAI enforces it: a requests bucket and a tokens bucket, each holding
 * at most its per-minute limit and refilled continuously at limit / `windowMs`. A request is served
 * only when both hold enough for it; otherwise it gets a 429 with `retry-after` / `retry-after-ms`.
 * Every answer carries the `x-ratelimit-*` headers of the dimensions configured.
 */
export interface RateLimitScript {
  /** Requests a window admits at a steady pace (RPM); none: requests are not limited. */
  requestsPerMinute?: number;
  /** Tokens a window admits (TPM): prompt tokens plus the output cap, as OpenAI counts; none: not limited. */
  tokensPerMinute?: number;
  /** The "minute", in milliseconds: 60 000 unless a benchmark scales time down. */
  windowMs: number;
  /** What each bucket holds when the script is installed, as a fraction of its limit: 1 full, 0 empty (a provider already under load). */
  startLevel: number;
}

const KNOWN = ['requestsPerMinute', 'tokensPerMinute', 'windowMs', 'startLevel'];

function wholeAtLeastOne(value: unknown, path: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new FaultScriptError(path, `must be a whole number >= 1, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** `{ requestsPerMinute?, tokensPerMinute?, windowMs = 60000, startLevel = 1 }`, at least one limit given. */
export function parseRateLimit(value: unknown): RateLimitScript | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FaultScriptError('rateLimit', `must be { requestsPerMinute?, tokensPerMinute?, windowMs?, startLevel? }, got ${JSON.stringify(value)}`);
  }
  const raw = value as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!KNOWN.includes(key)) throw new FaultScriptError(`rateLimit.${key}`, `is not a rate limit field; known: ${KNOWN.join(', ')}`);
  }
  const requestsPerMinute = wholeAtLeastOne(raw.requestsPerMinute, 'rateLimit.requestsPerMinute');
  const tokensPerMinute = wholeAtLeastOne(raw.tokensPerMinute, 'rateLimit.tokensPerMinute');
  if (requestsPerMinute === undefined && tokensPerMinute === undefined) {
    throw new FaultScriptError('rateLimit', 'needs requestsPerMinute, tokensPerMinute or both');
  }
  // Whole milliseconds keep the buckets' arithmetic exact on an integer clock.
  const windowMs = wholeAtLeastOne(raw.windowMs, 'rateLimit.windowMs') ?? 60_000;
  const startLevel = raw.startLevel ?? 1;
  if (typeof startLevel !== 'number' || !(startLevel >= 0 && startLevel <= 1)) {
    throw new FaultScriptError('rateLimit.startLevel', `must be a fraction in [0, 1], got ${JSON.stringify(startLevel)}`);
  }
  return { ...(requestsPerMinute !== undefined && { requestsPerMinute }), ...(tokensPerMinute !== undefined && { tokensPerMinute }), windowMs, startLevel };
}
