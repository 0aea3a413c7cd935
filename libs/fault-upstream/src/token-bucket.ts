/**
 * A bucket that holds at most `limit` units and refills continuously at `limit` per `windowMs`.
 * The level is kept in unit-milliseconds (units × windowMs), so that on an integer clock every
 * refill and take is integer arithmetic: a load at exactly the limit's pace finds exactly enough,
 * where floating-point refills would leave it a hair short now and then.
 */
export class TokenBucket {
  private scaledLevel: number;
  private updatedAt: number;
  private readonly scaledCapacity: number;

  constructor(
    readonly limit: number,
    private readonly windowMs: number,
    startLevel: number,
    private readonly now: () => number,
  ) {
    this.scaledCapacity = limit * windowMs;
    this.scaledLevel = Math.floor(this.scaledCapacity * startLevel);
    this.updatedAt = now();
  }

  /** Whole units it holds now. */
  remaining(): number {
    this.refill();
    return Math.floor(this.scaledLevel / this.windowMs);
  }

  /** Milliseconds until it holds `amount` (0: it does now); Infinity when `amount` is over its limit. */
  msUntilHolding(amount: number): number {
    if (amount > this.limit) return Infinity;
    this.refill();
    const deficit = amount * this.windowMs - this.scaledLevel;
    if (deficit <= 0) return 0;
    // After a clock step back, refilling resumes only once the clock is where it was.
    const clockLag = Math.max(0, this.updatedAt - this.now());
    return clockLag + deficit / this.limit;
  }

  /** Milliseconds until it is full again. */
  msUntilFull(): number {
    return this.msUntilHolding(this.limit);
  }

  /** Takes `amount`; the caller has checked that it holds that much. */
  take(amount: number): void {
    this.refill();
    this.scaledLevel -= amount * this.windowMs;
  }

  private refill(): void {
    const at = this.now();
    // A clock that steps back refills nothing, and the bucket waits for it to catch up.
    if (at <= this.updatedAt) return;
    this.scaledLevel = Math.min(this.scaledCapacity, this.scaledLevel + (at - this.updatedAt) * this.limit);
    this.updatedAt = at;
  }
}
