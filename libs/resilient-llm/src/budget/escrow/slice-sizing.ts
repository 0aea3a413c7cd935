/** A slice holds about this long of recent demand: it is replaced about once per second under load. */
const HORIZON_MS = 1_000;
/** At most this share of what is left in a window goes into one slice, so that slices shrink near the limit. */
const SHARE_OF_LEFT = 4;

/**
 * What calls drew from a replica's slices over about the last second: two one-second buckets,
 * the older one weighed by how much of it still lies within the last second.
 */
export class RecentDemand {
  private bucketStart = Number.NEGATIVE_INFINITY;
  private current = 0;
  private previous = 0;

  record(now: number, amountMicro: number): void {
    this.roll(now);
    this.current += amountMicro;
  }

  /** Micro-dollars drawn over the last `HORIZON_MS`, about. */
  overHorizon(now: number): number {
    this.roll(now);
    const elapsed = Math.min(1, Math.max(0, (now - this.bucketStart) / HORIZON_MS));
    return Math.round(this.current + this.previous * (1 - elapsed));
  }

  private roll(now: number): void {
    const start = Math.floor(now / HORIZON_MS) * HORIZON_MS;
    if (start === this.bucketStart) return;
    this.previous = start - this.bucketStart === HORIZON_MS ? this.current : 0;
    this.current = 0;
    this.bucketStart = start;
  }
}

export interface SliceDemand {
  /** The request that asked for the slice. */
  needMicro: number;
  /** What callers waiting on the same refill need together (they are served by it). */
  waitingMicro: number;
  /** What calls drew over the last second. */
  recentMicro: number;
  maxSliceMicro: number;
  /** Limit minus spent minus reserved in the tightest window, as last seen; undefined when not seen yet. */
  leftMicro?: number;
}

/**
 * The size of the next slice: the waiting requests and about a second of recent demand, capped
 * by `maxSliceMicro` and by a quarter of what is left, and never below the request's need. A
 * whole number of needs, so that a slice's remainder still serves calls like the one that asked.
 */
export function sliceSize(demand: SliceDemand): number {
  const need = Math.max(1, demand.needMicro);
  const wanted = Math.max(need + demand.waitingMicro, demand.recentMicro);
  const capLeft = demand.leftMicro === undefined ? Number.POSITIVE_INFINITY : Math.floor(demand.leftMicro / SHARE_OF_LEFT);
  const capped = Math.min(wanted, demand.maxSliceMicro, capLeft);
  return Math.max(need, need * Math.floor(capped / need));
}

/** A smaller slice after a refusal that said what was left: a quarter of it, or nothing more than the need. */
export const sliceAfterRefusal = (needMicro: number, leftMicro: number, maxSliceMicro: number): number =>
  sliceSize({ needMicro, waitingMicro: 0, recentMicro: leftMicro, maxSliceMicro, leftMicro });
