/** Pacing to the provider's rate limits (`x-ratelimit-*` headers). On by default; `false` turns it off. */
export interface PacingOptions {
  /** The window the provider's limits are per, in milliseconds. Default 60 000 (limits per minute). */
  windowMs?: number;
  /** Share of the limits to pace to, in (0, 1], so that timing jitter draws no 429s. Default 0.95. */
  share?: number;
  /** Requests that may wait for capacity, per upstream model. Default 1 000. */
  maxWaiting?: number;
}

export interface ResolvedPacingOptions {
  windowMs: number;
  share: number;
  maxWaiting: number;
}

export const DEFAULT_PACING_OPTIONS: Readonly<ResolvedPacingOptions> = Object.freeze({ windowMs: 60_000, share: 0.95, maxWaiting: 1_000 });
