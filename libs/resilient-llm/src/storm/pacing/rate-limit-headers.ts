import { parseServerRequestedDelay, readHeader } from '../../backoff/retry-after.js';

type HeaderBag = Parameters<typeof readHeader>[0];

/** Where the caller stands on one limit, as the provider last said. Each field only when it was readable. */
export interface RateLimitDimensionReading {
  /** Units the limit allows per window (`x-ratelimit-limit-*`). */
  limit?: number;
  /** Units left right now (`x-ratelimit-remaining-*`). */
  remaining?: number;
  /** Milliseconds until the limit is back to its full state (`x-ratelimit-reset-*`). */
  resetMs?: number;
}

/** The provider's rate-limit headers of one response: requests and tokens, either may be absent. */
export interface RateLimitReading {
  requests?: RateLimitDimensionReading;
  tokens?: RateLimitDimensionReading;
}

const COUNT = /^\d+(\.\d+)?$/;
// Go's time.Duration text, which OpenAI-compatible servers send: "1s", "6m0s", "59.882s", "20ms", "2h0m0s".
const DURATION = /^(?:(?:\d+(?:\.\d*)?|\.\d+)(?:h|ms|m|s|us|µs|μs|ns))+$/;
const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|μs|ns)/g;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 1e-3, µs: 1e-3, μs: 1e-3, ns: 1e-6 };
// Longer than any real duration; a guard against pathological header values.
const MAX_DURATION_LENGTH = 64;

/**
 * Milliseconds in a reset duration (`1m30.5s` -> 90 500). A bare number is read as seconds,
 * as some relays send it. Anything else (negative, unknown unit, empty) is undefined.
 */
export function parseResetDuration(text: string | null | undefined): number | undefined {
  if (typeof text !== 'string') return undefined;
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.length > MAX_DURATION_LENGTH) return undefined;
  if (COUNT.test(trimmed)) return Number(trimmed) * 1_000;
  if (!DURATION.test(trimmed)) return undefined;
  let totalMs = 0;
  for (const [, amount, unit] of trimmed.matchAll(DURATION_PART)) totalMs += Number(amount) * UNIT_MS[unit];
  return Number.isFinite(totalMs) ? totalMs : undefined;
}

/** The `x-ratelimit-*` headers of a response; undefined when none is readable. Never throws. */
export function readRateLimits(headers: HeaderBag): RateLimitReading | undefined {
  try {
    const requests = readDimension(headers, 'requests');
    const tokens = readDimension(headers, 'tokens');
    if (!requests && !tokens) return undefined;
    return { ...(requests && { requests }), ...(tokens && { tokens }) };
  } catch {
    // A header bag that throws on read says nothing about the limits; pacing carries on without them.
    return undefined;
  }
}

/** The wait a 429 asked for (`retry-after-ms`, else `retry-after` in seconds or as an HTTP date), in milliseconds. */
export function readRetryAfterMs(headers: HeaderBag, nowMs: number): number | undefined {
  try {
    return parseServerRequestedDelay(headers, nowMs)?.delayMs;
  } catch {
    return undefined;
  }
}

function readDimension(headers: HeaderBag, dimension: 'requests' | 'tokens'): RateLimitDimensionReading | undefined {
  const limit = parseCount(readHeader(headers, `x-ratelimit-limit-${dimension}`));
  const remaining = parseCount(readHeader(headers, `x-ratelimit-remaining-${dimension}`));
  const resetMs = parseResetDuration(readHeader(headers, `x-ratelimit-reset-${dimension}`));
  const reading: RateLimitDimensionReading = {};
  // A limit of 0 would mean a rate of 0: nothing could ever pass, so it is read as no limit known.
  if (limit !== undefined && limit > 0) reading.limit = limit;
  if (remaining !== undefined) reading.remaining = remaining;
  if (resetMs !== undefined) reading.resetMs = resetMs;
  return Object.keys(reading).length > 0 ? reading : undefined;
}

function parseCount(text: string | undefined): number | undefined {
  const trimmed = text?.trim();
  if (!trimmed || !COUNT.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : undefined;
}
