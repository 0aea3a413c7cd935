import { describe, expect, it } from 'vitest';
import { EventLoopStallMonitor, type StallTimer } from './event-loop-stall.js';

/** A timer the test fires by hand, and the time it reads. */
function harness() {
  let now = 1_000;
  const running = new Set<unknown>();
  let ticks: (() => void) | undefined;
  const timer: StallTimer = {
    setInterval: (tick) => {
      ticks = tick;
      const handle = {};
      running.add(handle);
      return handle;
    },
    clearInterval: (handle) => running.delete(handle),
  };
  const monitor = new EventLoopStallMonitor(() => now, timer);
  return {
    monitor,
    running,
    /** The loop was free: ticks every 20 ms for `ms`. */
    idle(ms: number) {
      for (let passed = 0; passed < ms; passed += 20) {
        now += 20;
        ticks?.();
      }
    },
    /** The loop was held for `ms`, then the late tick ran. */
    stall(ms: number) {
      now += ms;
      ticks?.();
    },
    /** Held for `ms`, and no tick has run yet. */
    hold(ms: number) {
      now += ms;
    },
  };
}

describe('EventLoopStallMonitor', () => {
  it('sees no stall while the loop ticks on time', () => {
    const { monitor, idle } = harness();
    const watch = monitor.watch();
    idle(2_000);
    expect(watch.longestStallMs()).toBe(0);
    watch.stop();
  });

  it("reports the longest stall inside the watched span, not one before it", () => {
    const { monitor, idle, stall } = harness();
    const early = monitor.watch();
    stall(900);
    idle(200);
    const attempt = monitor.watch();
    idle(100);
    stall(400);
    idle(100);
    expect(attempt.longestStallMs()).toBe(380);
    expect(early.longestStallMs()).toBe(880);
    attempt.stop();
    early.stop();
  });

  it('counts a stall still going on when asked (the timeout fired late, the sampler has not run yet)', () => {
    const { monitor, idle, hold } = harness();
    const watch = monitor.watch();
    idle(100);
    hold(1_500);
    expect(watch.longestStallMs()).toBe(1_480);
    watch.stop();
  });

  it('keeps a timer only while someone watches', () => {
    const { monitor, running } = harness();
    const first = monitor.watch();
    const second = monitor.watch();
    expect(running.size).toBe(1);
    first.stop();
    first.stop();
    expect(running.size).toBe(1);
    second.stop();
    expect(running.size).toBe(0);
    const third = monitor.watch();
    expect(running.size).toBe(1);
    third.stop();
  });
});
