import { RATE_DIMENSIONS, RateBuckets, type RateBucketsPort, type RateBucketsSettings, type RateBucketsState, type RateDimension, type RateNeed } from '../pacing/rate-buckets.js';
import type { RateLimitReading } from '../pacing/rate-limit-headers.js';
import { isFleetUnavailableError } from './fleet-unavailable.error.js';
import type { RateLimits, RedisFleetLink } from './redis-fleet.link.js';

/**
 * A pacer's buckets shared by every replica: the fleet's levels live in Redis (one hash per
 * `key`, Redis TIME as the clock), the limits are learnt here from the provider's readings.
 *
 * A local mirror (`RateBuckets`) follows the same readings and this replica's own takes. It
 * answers `projectWaits` (Redis has no projection script, and a round trip per drain would cost
 * every waiter), and it paces this process alone whenever Redis fails: a Redis fault never
 * rejects and never holds a request longer than the link's command timeout.
 *
 * The mirror never sees the other replicas' takes, so its level is an upper bound of the
 * fleet's and its projection a lower bound of the real wait: a waiter is refused at once only
 * when even the mirror says it cannot make it; any other late waiter is refused at its deadline.
 * A take the fleet refuses holds the projection back until the fleet said it could pass, so
 * that the pacer sleeps on that wait instead of asking Redis again at once.
 */
export class RedisRateBuckets implements RateBucketsPort {
  private readonly mirror: RateBuckets;
  private readonly limits: Partial<Record<RateDimension, number>> = {};
  /** The fleet refused a take: nothing passes before this epoch ms, as far as we know. */
  private fleetHeldUntilMs = 0;

  constructor(
    private readonly link: RedisFleetLink,
    private readonly key: string,
    private readonly settings: RateBucketsSettings,
  ) {
    this.mirror = new RateBuckets(settings);
  }

  async tryTake(need: RateNeed, nowMs: number): Promise<number> {
    const limits = this.fleetLimits();
    // Nothing known of the limits: nothing to share, only a local block can hold the request.
    if (!limits) return this.mirror.tryTake(need, nowMs);
    let waitMs: number;
    try {
      waitMs = await this.link.takeRate(this.key, this.fleetNeed(need), limits);
    } catch (error) {
      if (!isFleetUnavailableError(error)) throw error;
      return this.takeLocally(need, nowMs);
    }
    if (!Number.isFinite(waitMs) || waitMs < 0) return this.takeLocally(need, nowMs);
    if (waitMs > 0) {
      this.fleetHeldUntilMs = nowMs + waitMs;
      return waitMs;
    }
    this.fleetHeldUntilMs = 0;
    // What the mirror cannot cover it leaves untaken: its level stays an upper bound of the fleet's.
    this.mirror.tryTake(need, nowMs);
    return 0;
  }

  projectWaits(needs: readonly RateNeed[], nowMs: number): number[] {
    const heldMs = Math.max(0, this.fleetHeldUntilMs - nowMs);
    return this.mirror.projectWaits(needs, nowMs).map((waitMs) => Math.max(waitMs, heldMs));
  }

  async sync(reading: RateLimitReading, nowMs: number): Promise<void> {
    for (const dimension of RATE_DIMENSIONS) {
      const limit = reading[dimension]?.limit;
      if (limit !== undefined && Number.isFinite(limit) && limit > 0) this.limits[dimension] = limit;
    }
    this.mirror.sync(reading, nowMs);
    const remaining = { requests: reading.requests?.remaining, tokens: reading.tokens?.remaining };
    if (remaining.requests === undefined && remaining.tokens === undefined) return;
    await this.shared(this.link.syncRate(this.key, remaining));
  }

  async exhaust(dimensions: readonly RateDimension[], nowMs: number): Promise<void> {
    this.mirror.exhaust(dimensions, nowMs);
    // As the mirror does: a limit never stated has no bucket to empty.
    const known = dimensions.filter((dimension) => this.limits[dimension] !== undefined);
    if (known.length === 0) return;
    const remaining = Object.fromEntries(known.map((dimension) => [dimension, 0]));
    await this.shared(this.link.syncRate(this.key, remaining));
  }

  async block(untilMs: number): Promise<void> {
    this.mirror.block(untilMs);
    if (!Number.isFinite(untilMs)) return;
    await this.shared(this.link.blockRate(this.key, untilMs));
  }

  /** The mirror's state: this replica's view, not the fleet's. */
  toJSON(): RateBucketsState {
    return this.mirror.toJSON();
  }

  /** Redis away: this process paces alone, still honouring the last wait the fleet asked for. */
  private takeLocally(need: RateNeed, nowMs: number): number {
    const heldMs = this.fleetHeldUntilMs - nowMs;
    return heldMs > 0 ? heldMs : this.mirror.tryTake(need, nowMs);
  }

  /** The known limits as the link's per-ms rates, capacity one whole limit; undefined while none is known. */
  private fleetLimits(): RateLimits | undefined {
    const { requests, tokens } = this.limits;
    if (requests === undefined && tokens === undefined) return undefined;
    const { windowMs, share } = this.settings;
    return {
      ...(requests !== undefined && { requestsPerMs: (requests * share) / windowMs, requestCapacity: requests }),
      ...(tokens !== undefined && { tokensPerMs: (tokens * share) / windowMs, tokenCapacity: tokens }),
    };
  }

  /**
   * As `RateBuckets` does: a need above the whole limit takes nothing and passes, for the provider
   * to answer; Redis alone would hold it for a full bucket and leave it in debt.
   */
  private fleetNeed(need: RateNeed): RateNeed {
    const within = (dimension: RateDimension) => {
      const limit = this.limits[dimension];
      return limit !== undefined && need[dimension] > limit ? 0 : need[dimension];
    };
    return { requests: within('requests'), tokens: within('tokens') };
  }

  /** A change the fleet should see; Redis away, the mirror already has it and the link has logged the outage. */
  private async shared(change: Promise<void>): Promise<void> {
    try {
      await change;
    } catch (error) {
      if (!isFleetUnavailableError(error)) throw error;
    }
  }
}
