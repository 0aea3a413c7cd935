export { DEFAULT_PACING_OPTIONS, type PacingOptions, type ResolvedPacingOptions } from './pacing-options.interface.js';
export { resolvePacingOptions } from './pacing-options.validation.js';
export { RATE_DIMENSIONS, RateBuckets, type BucketState, type MaybePromise, type RateBucketsPort, type RateBucketsSettings, type RateBucketsState, type RateDimension, type RateNeed } from './rate-buckets.js';
export { parseResetDuration, readRateLimits, readRetryAfterMs, type RateLimitDimensionReading, type RateLimitReading } from './rate-limit-headers.js';
export { isRateLimitWaitExceededError, RateLimitWaitExceededError, type RateLimitRefusal } from './rate-limit-wait-exceeded.error.js';
export { RatePacer, type PacingPass, type PacingWait, type RatePacerSeams } from './rate-pacer.js';
