/** How often the loop is sampled while requests are in flight, in milliseconds. */
const SAMPLE_EVERY_MS = 20;
// About 10 s of samples at 20 ms: longer than any attempt timeout worth measuring against.
const KEPT_SAMPLES = 512;

/** A monotonic clock in milliseconds: the loop's lateness is real time, whatever clock the logic runs on. */
export type MonotonicNow = () => number;

/** One span of time being watched: how long the loop stalled in it so far. */
export interface StallWatch {
  longestStallMs(): number;
  stop(): void;
}

export interface StallTimer {
  setInterval(tick: () => void, everyMs: number): unknown;
  clearInterval(handle: unknown): void;
}

const realTimer: StallTimer = {
  setInterval: (tick, everyMs) => {
    const handle = setInterval(tick, everyMs);
    handle.unref();
    return handle;
  },
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

/**
 * How late this process's own event loop ran during a span of time: an interval that should
 * fire every 20 ms, and how much later than that it did. Runs only while someone watches, so
 * an idle app keeps no timer. A timeout that falls in a stall this long was the app's doing,
 * not the upstream's (what `monitorEventLoopDelay` measures, but per time span, which its
 * process-wide histogram cannot give).
 */
export class EventLoopStallMonitor {
  private readonly at = new Float64Array(KEPT_SAMPLES);
  private readonly lag = new Float64Array(KEPT_SAMPLES);
  private next = 0;
  private count = 0;
  private watchers = 0;
  private handle: unknown;
  private lastTickAt = 0;

  constructor(
    private readonly now: MonotonicNow = () => performance.now(),
    private readonly timer: StallTimer = realTimer,
  ) {}

  /** Starts watching a span of time (one attempt); stop it once, when the span is over. */
  watch(): StallWatch {
    if (this.watchers++ === 0) this.start();
    const since = this.now();
    let stopped = false;
    return {
      longestStallMs: () => this.longestStallSince(since),
      stop: () => {
        if (stopped) return;
        stopped = true;
        if (--this.watchers === 0) this.stop();
      },
    };
  }

  /** The longest the loop was held up since `sinceMs`, counting a stall still going on now. */
  private longestStallSince(sinceMs: number): number {
    const now = this.now();
    let longest = this.watchers > 0 ? Math.max(0, now - this.lastTickAt - SAMPLE_EVERY_MS) : 0;
    for (let index = 0; index < this.count; index++) {
      const slot = (this.next - 1 - index + KEPT_SAMPLES) % KEPT_SAMPLES;
      // A sample covers the span before it; one that ended after `sinceMs` overlaps the attempt.
      if (this.at[slot] < sinceMs) break;
      longest = Math.max(longest, this.lag[slot]);
    }
    return longest;
  }

  /** Records one tick; the timer calls it, and so can a test. */
  tick(): void {
    const now = this.now();
    this.record(now, Math.max(0, now - this.lastTickAt - SAMPLE_EVERY_MS));
    this.lastTickAt = now;
  }

  private record(atMs: number, lagMs: number): void {
    this.at[this.next] = atMs;
    this.lag[this.next] = lagMs;
    this.next = (this.next + 1) % KEPT_SAMPLES;
    this.count = Math.min(KEPT_SAMPLES, this.count + 1);
  }

  private start(): void {
    this.lastTickAt = this.now();
    this.count = 0;
    this.handle = this.timer.setInterval(() => this.tick(), SAMPLE_EVERY_MS);
  }

  private stop(): void {
    this.timer.clearInterval(this.handle);
    this.handle = undefined;
  }
}
