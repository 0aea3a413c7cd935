import type { RetryBudgetSettings } from '../retry-budget.js';
import type { Timers } from '../../time/timers.js';
import { isFleetUnavailableError } from './fleet-unavailable.error.js';

/** Adds `delta` to the fleet's bucket (clamped to [0, maxTokens]) and resolves with the fleet's level. */
export type RetryBudgetPush = (delta: number) => Promise<number>;

/**
 * A retry budget shared by the fleet. Decisions read a local mirror, so that no request waits
 * on Redis; each change lands on the mirror at once and is summed into a delta that a timer
 * pushes every `syncMs`, adopting the fleet's level in return. With Redis away the mirror is
 * simply this process's own budget. Same calls as `RetryBudget`.
 */
export class SharedRetryBudget {
  private mirror: number;
  private pending = 0;
  private inFlight: Promise<void> | undefined;
  private timer: unknown;
  private stopped = false;

  constructor(
    private readonly settings: RetryBudgetSettings,
    private readonly push: RetryBudgetPush,
    private readonly timers: Timers,
    private readonly syncMs: number,
  ) {
    this.mirror = settings.maxTokens;
    this.schedule();
  }

  get available(): number {
    return this.mirror;
  }

  onFirstAttempt(): void {
    if (this.settings.mode === 'ratio') this.apply(this.settings.ratio);
  }

  onSuccess(): void {
    if (this.settings.mode === 'throttle') this.apply(this.settings.tokenRatio);
  }

  onFailure(): void {
    if (this.settings.mode === 'throttle') this.apply(-1);
  }

  /** Whether one more retry may run now; spends its token in `ratio` mode. */
  tryRetry(): boolean {
    if (this.settings.mode === 'throttle') return this.mirror > this.settings.maxTokens / 2;
    if (this.mirror < 1) return false;
    this.apply(-1);
    return true;
  }

  /** Refills the bucket, the fleet's too (an operator's reset). */
  reset(): void {
    this.apply(this.settings.maxTokens);
  }

  /**
   * Pushes the changes made so far and adopts the fleet's level; never rejects. Pushes run one
   * at a time, so that a level adopted never predates one adopted before it.
   */
  flush(): Promise<void> {
    // Started at once when no push is out, so that the push holds every change made before this call.
    const next = this.inFlight ? this.inFlight.then(() => this.pushPending()) : this.pushPending();
    this.inFlight = next;
    void next.finally(() => {
      if (this.inFlight === next) this.inFlight = undefined;
    });
    return next;
  }

  /** Stops the timer and pushes what is left (within the command timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.clearTimeout(this.timer);
    await this.flush();
  }

  private apply(delta: number): void {
    this.mirror = this.clamp(this.mirror + delta);
    this.pending += delta;
  }

  private async pushPending(): Promise<void> {
    const delta = this.pending;
    this.pending = 0;
    try {
      const level = await this.push(delta);
      // Changes made while the push was out are not in the fleet's level yet.
      this.mirror = this.clamp(level + this.pending);
    } catch (error) {
      // A push that never left may go with the next one; one that may have landed must not count twice.
      if (isFleetUnavailableError(error) && !error.sent) this.pending = this.bounded(this.pending + delta);
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.timers.setTimeout(() => void this.flush().finally(() => this.schedule()), this.syncMs);
  }

  private clamp(tokens: number): number {
    return Math.min(this.settings.maxTokens, Math.max(0, tokens));
  }

  /** An outage's worth of unsent changes counts as at most one full bucket either way. */
  private bounded(delta: number): number {
    return Math.min(this.settings.maxTokens, Math.max(-this.settings.maxTokens, delta));
  }
}
