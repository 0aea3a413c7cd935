import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface EventLoopStalls {
  /** Longest time a 5 ms timer fired late, in ms: how long the loop was blocked at worst. */
  maxStallMs: number;
  /** Node's own event-loop delay histogram, in ms. */
  p99DelayMs: number;
  maxDelayMs: number;
}

/** Watches how long the event loop is blocked until `stop()` says. */
export function watchEventLoop(tickMs = 5): { stop: () => EventLoopStalls } {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  let last = performance.now();
  let maxStallMs = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    maxStallMs = Math.max(maxStallMs, now - last - tickMs);
    last = now;
  }, tickMs);
  return {
    stop: () => {
      clearInterval(ticker);
      histogram.disable();
      return { maxStallMs, p99DelayMs: histogram.percentile(99) / 1e6, maxDelayMs: histogram.max / 1e6 };
    },
  };
}
