import type { ResolvedPacingOptions } from './pacing-options.interface.js';
import { type Timers, systemTimers } from '../../time/timers.js';
import { RateBuckets, type RateBucketsPort, type RateBucketsState, type RateDimension, type RateNeed } from './rate-buckets.js';
import type { RateLimitReading } from './rate-limit-headers.js';
import { type RateLimitRefusal, RateLimitWaitExceededError } from './rate-limit-wait-exceeded.error.js';

/** A request let through. `waitedMs`: how long it queued for capacity (0 when it passed at once). */
export interface PacingPass {
  readonly waitedMs: number;
}

export interface PacingWait {
  /** Cancels the wait: the request leaves the queue and the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** The longest this request may wait, in ms (the time left before its deadline). */
  maxWaitMs: number;
}

export interface RatePacerSeams {
  timers?: Timers;
  /** Where the bucket arithmetic lives; in this process by default. */
  buckets?: RateBucketsPort;
  /** Start the in-process buckets from a stored state (`toJSON()`); ignored with `buckets`. */
  initialState?: RateBucketsState;
}

interface Waiter {
  readonly need: RateNeed;
  readonly enqueuedAtMs: number;
  readonly deadlineAtMs: number;
  readonly maxWaitMs: number;
  /** Let into the queue: it counts towards `maxWaiting` and is not refused for a full queue any more. */
  admitted: boolean;
  settled: boolean;
  settle(outcome: { pass: PacingPass } | { error: unknown }): void;
}

/**
 * Paces the requests to one upstream model to the provider's rate limits, learnt from its
 * `x-ratelimit-*` headers. A request passes at once while there is room and nobody waits;
 * otherwise it waits in a bounded FIFO queue for the buckets to refill. One whose projected
 * wait (behind the queue ahead of it) is longer than it may wait is refused at once.
 */
export class RatePacer {
  private readonly timers: Timers;
  private readonly buckets: RateBucketsPort;
  private readonly queue: Waiter[] = [];
  private headTimer: unknown;
  private draining = false;
  private drainAgain = false;

  constructor(
    readonly key: string,
    private readonly settings: ResolvedPacingOptions,
    seams: RatePacerSeams = {},
  ) {
    this.timers = seams.timers ?? systemTimers();
    this.buckets = seams.buckets ?? new RateBuckets(settings, seams.initialState);
  }

  /** Requests waiting for capacity now. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Room for one request of `need.tokens` tokens (prompt plus output cap); rejects with `RateLimitWaitExceededError` when it cannot come in time. */
  acquire(need: { tokens: number }, options: PacingWait): Promise<PacingPass> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<PacingPass>((resolve, reject) => {
      const nowMs = this.timers.now();
      const maxWaitMs = Math.max(0, Number.isNaN(options.maxWaitMs) ? 0 : options.maxWaitMs);
      let deadlineTimer: unknown;
      const onAbort = () => this.remove(waiter, abortReason(signal!));
      const waiter: Waiter = {
        need: { requests: 1, tokens: Number.isFinite(need.tokens) ? Math.max(0, need.tokens) : 0 },
        enqueuedAtMs: nowMs,
        deadlineAtMs: nowMs + maxWaitMs,
        maxWaitMs,
        admitted: false,
        settled: false,
        settle: (outcome) => {
          waiter.settled = true;
          if (deadlineTimer !== undefined) this.timers.clearTimeout(deadlineTimer);
          signal?.removeEventListener('abort', onAbort);
          if ('error' in outcome) reject(outcome.error);
          else resolve(outcome.pass);
        },
      };
      // At the deadline the drain refuses it, unless it can pass at that very moment.
      if (maxWaitMs > 0 && Number.isFinite(maxWaitMs)) deadlineTimer = this.timers.setTimeout(() => this.kick(), maxWaitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
      this.kick();
    });
  }

  /**
   * What an answer said: its rate-limit reading (none: nothing learnt), its status, and on a
   * 429 the wait it asked for. A 429 empties the limit it hit and holds everyone until then.
   * Rejects only when a shared store behind the buckets fails.
   */
  async observe(reading: RateLimitReading | undefined, status: number, retryAfterMs?: number): Promise<void> {
    const nowMs = this.timers.now();
    if (reading) await this.buckets.sync(reading, nowMs);
    if (status === 429) {
      await this.buckets.exhaust(exhaustedDimensions(reading), nowMs);
      if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs > 0) await this.buckets.block(nowMs + retryAfterMs);
    }
    if (this.queue.length > 0) this.kick();
  }

  /** The buckets' state as JSON (undefined when they live in a shared store). */
  toJSON(): RateBucketsState | undefined {
    return this.buckets.toJSON?.();
  }

  private kick(): void {
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    this.draining = true;
    void this.drainWhileAsked();
  }

  private async drainWhileAsked(): Promise<void> {
    try {
      do {
        this.drainAgain = false;
        await this.drain();
      } while (this.drainAgain);
    } catch (error) {
      // The buckets' store failed: nobody can be paced, so nobody is left waiting on a queue that cannot move.
      for (const waiter of [...this.queue]) this.drop(waiter, error);
    } finally {
      this.draining = false;
    }
  }

  private async drain(): Promise<void> {
    this.cancelHeadTimer();
    for (;;) {
      await this.passReadyHeads();
      const headWaitMs = await this.refuseHopeless();
      if (headWaitMs === undefined) return;
      if (headWaitMs > 0) {
        // Rounded up: a timer that fires a fraction early would find the head a hair short.
        this.headTimer = this.timers.setTimeout(() => {
          this.headTimer = undefined;
          this.kick();
        }, Math.ceil(headWaitMs));
        return;
      }
    }
  }

  /** FIFO: only the head may take, so a small request never overtakes a large one ahead of it. */
  private async passReadyHeads(): Promise<void> {
    while (this.queue.length > 0) {
      const head = this.queue[0];
      if ((await this.buckets.tryTake(head.need, this.timers.now())) > 0) return;
      // With a remote store the head may have been aborted during the round trip: its share is then lost until refill.
      const index = this.queue.indexOf(head);
      if (index !== -1) this.queue.splice(index, 1);
      if (!head.settled) head.settle({ pass: { waitedMs: this.timers.now() - head.enqueuedAtMs } });
    }
  }

  /**
   * Refuses, one at a time, the first waiter that cannot get room before its deadline or does not
   * fit the queue; a refusal shortens the wait of everyone behind, hence the projection again.
   * Answers how long the head still waits (undefined: nobody waits).
   */
  private async refuseHopeless(): Promise<number | undefined> {
    for (;;) {
      const waiting = [...this.queue];
      if (waiting.length === 0) return undefined;
      const nowMs = this.timers.now();
      // Judged against the moment they were projected from: a slow store's round trip does not make anyone late.
      const waitsMs = await this.buckets.projectWaits(waiting.map((waiter) => waiter.need), nowMs);
      const hopeless = this.firstHopeless(waiting, waitsMs, nowMs);
      if (!hopeless) return waitsMs[0];
      const { waiter, reason, waitMs } = hopeless;
      const bound = reason === 'deadline' ? waiter.maxWaitMs : this.settings.maxWaiting;
      this.drop(waiter, new RateLimitWaitExceededError(this.key, reason, Math.ceil(waitMs), bound));
    }
  }

  private firstHopeless(waiting: Waiter[], waitsMs: number[], nowMs: number): { waiter: Waiter; reason: RateLimitRefusal; waitMs: number } | undefined {
    for (let index = 0; index < waiting.length; index++) {
      const waiter = waiting[index];
      if (waiter.settled) continue;
      const waitMs = waitsMs[index];
      if (!waiter.admitted && index >= this.settings.maxWaiting) return { waiter, reason: 'queue_full', waitMs };
      if (nowMs + waitMs > waiter.deadlineAtMs) return { waiter, reason: 'deadline', waitMs };
      waiter.admitted = true;
    }
    return undefined;
  }

  private remove(waiter: Waiter, error: unknown): void {
    if (waiter.settled) return;
    this.drop(waiter, error);
    this.kick();
  }

  private drop(waiter: Waiter, error: unknown): void {
    const index = this.queue.indexOf(waiter);
    if (index !== -1) this.queue.splice(index, 1);
    if (!waiter.settled) waiter.settle({ error });
  }

  private cancelHeadTimer(): void {
    if (this.headTimer === undefined) return;
    this.timers.clearTimeout(this.headTimer);
    this.headTimer = undefined;
  }
}

/**
 * The limits a 429 hit: requests when none were left; tokens when requests were left (so it was
 * not them); both when the answer does not say.
 */
function exhaustedDimensions(reading: RateLimitReading | undefined): RateDimension[] {
  const requestsLeft = reading?.requests?.remaining;
  const tokensLeft = reading?.tokens?.remaining;
  if (requestsLeft === undefined) return ['requests', 'tokens'];
  if (requestsLeft >= 1) return ['tokens'];
  return tokensLeft !== undefined && tokensLeft >= 1 ? ['requests'] : ['requests', 'tokens'];
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}
