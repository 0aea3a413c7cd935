import type { BackoffStrategy } from './backoff-strategy.js';

export interface BackoffOptions {
  /** How delays grow and jitter. Default `'full'` (AWS full jitter). */
  strategy?: BackoffStrategy;
  /** First delay's ceiling, in milliseconds. Default 500. */
  baseMs?: number;
  /** Largest computed delay, in milliseconds. Default 10 000. */
  capMs?: number;
  /** Attempts per call, the first one included (1 = never retry). Default 3, at most 10. */
  maxAttempts?: number;
  /** Overall time for all attempts and delays of one call, in milliseconds. Default 60 000. */
  deadlineMs?: number;
  /** Multiplies computed delays after 5xx answers, so an ailing server gets more room. Default 1, at least 1. */
  serverErrorMultiplier?: number;
  /** Longest wait honoured from `Retry-After` / `retry-after-ms`, in milliseconds. Default 60 000. */
  maxServerDelayMs?: number;
}

export type ResolvedBackoffOptions = Required<BackoffOptions>;

export const DEFAULT_BACKOFF_OPTIONS: ResolvedBackoffOptions = Object.freeze({
  strategy: 'full',
  baseMs: 500,
  capMs: 10_000,
  maxAttempts: 3,
  deadlineMs: 60_000,
  serverErrorMultiplier: 1,
  maxServerDelayMs: 60_000,
});

export const MAX_ATTEMPTS_LIMIT = 10;

/** The backoff policy's slice of the resolved module options (token `RESILIENT_LLM_BACKOFF_SETTINGS`). */
export interface BackoffSettings {
  readonly backoff: ResolvedBackoffOptions;
}
