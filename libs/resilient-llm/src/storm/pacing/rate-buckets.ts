import type { RateLimitReading } from './rate-limit-headers.js';

export type RateDimension = 'requests' | 'tokens';

export const RATE_DIMENSIONS: readonly RateDimension[] = ['requests', 'tokens'];

/** What one upstream request takes from the limits: 1 request, and its prompt tokens plus its output cap. */
export interface RateNeed {
  requests: number;
  tokens: number;
}

/** One limit as a token bucket: `limit` units at most, refilling at `share` of `limit` per window. */
export interface BucketState {
  limit: number;
  level: number;
  /** Epoch ms at which `level` was true. */
  updatedAtMs: number;
}

/** Everything the buckets know, as plain JSON: to store, to share, to start other buckets from. */
export interface RateBucketsState {
  requests?: BucketState;
  tokens?: BucketState;
  /** Nothing passes before this epoch ms (a 429 asked to wait). */
  blockedUntilMs: number;
}

export interface RateBucketsSettings {
  /** The window the provider's limits are per, in ms. */
  windowMs: number;
  /** Share of the limit to pace to, in (0, 1]. */
  share: number;
}

export type MaybePromise<T> = T | Promise<T>;

/**
 * The bucket arithmetic behind a pacer: in this process (`RateBuckets`) or shared by a fleet
 * (a store-backed implementation). Every method may answer through a Promise.
 */
export interface RateBucketsPort {
  /** Takes `need` when all of it is there now and answers 0; else takes nothing and answers the ms (fractional) until it could. */
  tryTake(need: RateNeed, nowMs: number): MaybePromise<number>;
  /**
   * For each of `needs`, taken one after another in this order, the ms until it could be taken.
   * Exact, not rounded: a waiter is refused only when its turn really comes after its deadline. Takes nothing.
   */
  projectWaits(needs: readonly RateNeed[], nowMs: number): MaybePromise<number[]>;
  /** What the provider said: learns the limits, and never keeps more than it reported remaining. */
  sync(reading: RateLimitReading, nowMs: number): MaybePromise<void>;
  /** The provider refused (429): nothing left of these limits right now. */
  exhaust(dimensions: readonly RateDimension[], nowMs: number): MaybePromise<void>;
  /** Nothing passes before `untilMs`. */
  block(untilMs: number): MaybePromise<void>;
  /** The state as JSON, when it is held here. */
  toJSON?(): RateBucketsState;
}

// Refills are floating point: a waiter must not stay a hair short of its need forever.
const EPSILON = 1e-6;

/**
 * Token buckets for a provider's request and token limits, pure: time comes in as `nowMs`.
 * A limit is known only once the provider has stated it; an unknown limit holds nothing back.
 * The level may reach the whole limit (the provider allows that burst too), while refilling at
 * only `share` of the provider's rate, so that timing jitter leaves the provider ahead of us.
 */
export class RateBuckets implements RateBucketsPort {
  private state: RateBucketsState;

  constructor(
    private readonly settings: RateBucketsSettings,
    initialState?: RateBucketsState,
  ) {
    this.state = initialState ? cloneState(initialState) : { blockedUntilMs: 0 };
  }

  tryTake(need: RateNeed, nowMs: number): number {
    const [waitMs] = this.projectWaits([need], nowMs);
    if (waitMs > 0) return waitMs;
    for (const dimension of RATE_DIMENSIONS) {
      const bucket = this.refilled(dimension, nowMs);
      if (bucket) bucket.level = Math.max(0, bucket.level - takenOf(bucket, need[dimension]));
    }
    return 0;
  }

  projectWaits(needs: readonly RateNeed[], nowMs: number): number[] {
    const blockedMs = Math.max(0, this.state.blockedUntilMs - nowMs);
    const cumulative: Record<RateDimension, number> = { requests: 0, tokens: 0 };
    return needs.map((need) => {
      let waitMs = blockedMs;
      for (const dimension of RATE_DIMENSIONS) {
        const bucket = this.state[dimension];
        if (!bucket) continue;
        cumulative[dimension] += takenOf(bucket, need[dimension]);
        const missing = cumulative[dimension] - this.levelAt(bucket, nowMs);
        if (missing > EPSILON) waitMs = Math.max(waitMs, missing / this.ratePerMs(bucket));
      }
      return waitMs;
    });
  }

  sync(reading: RateLimitReading, nowMs: number): void {
    for (const dimension of RATE_DIMENSIONS) {
      const said = reading[dimension];
      if (!said) continue;
      const bucket = this.refilled(dimension, nowMs);
      if (!bucket) {
        if (said.limit !== undefined) this.state[dimension] = { limit: said.limit, level: Math.min(said.limit, said.remaining ?? said.limit), updatedAtMs: nowMs };
        continue;
      }
      if (said.limit !== undefined) bucket.limit = said.limit;
      // Requests sent since the provider counted are not in its figure yet, so its figure is an upper bound, never a floor.
      bucket.level = Math.min(bucket.level, bucket.limit, said.remaining ?? Number.POSITIVE_INFINITY);
    }
  }

  exhaust(dimensions: readonly RateDimension[], nowMs: number): void {
    for (const dimension of dimensions) {
      const bucket = this.refilled(dimension, nowMs);
      if (bucket) bucket.level = 0;
    }
  }

  block(untilMs: number): void {
    this.state.blockedUntilMs = Math.max(this.state.blockedUntilMs, untilMs);
  }

  toJSON(): RateBucketsState {
    return cloneState(this.state);
  }

  private ratePerMs(bucket: BucketState): number {
    return (bucket.limit * this.settings.share) / this.settings.windowMs;
  }

  private levelAt(bucket: BucketState, nowMs: number): number {
    // A clock behind the stored state (another replica's) refills nothing rather than draining.
    const elapsedMs = Math.max(0, nowMs - bucket.updatedAtMs);
    return Math.min(bucket.limit, bucket.level + elapsedMs * this.ratePerMs(bucket));
  }

  private refilled(dimension: RateDimension, nowMs: number): BucketState | undefined {
    const bucket = this.state[dimension];
    if (!bucket) return undefined;
    bucket.level = this.levelAt(bucket, nowMs);
    bucket.updatedAtMs = Math.max(bucket.updatedAtMs, nowMs);
    return bucket;
  }
}

/**
 * A need larger than the whole limit could never be met: it takes nothing and passes, and the
 * provider answers it (a request too large), instead of it being held forever.
 */
function takenOf(bucket: BucketState, need: number): number {
  return need > bucket.limit ? 0 : Math.max(0, need);
}

function cloneState(state: RateBucketsState): RateBucketsState {
  const copy: RateBucketsState = { blockedUntilMs: state.blockedUntilMs };
  if (state.requests) copy.requests = { ...state.requests };
  if (state.tokens) copy.tokens = { ...state.tokens };
  return copy;
}
