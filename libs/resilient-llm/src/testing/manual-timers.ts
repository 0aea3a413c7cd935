import type { Timers } from '../time/timers.js';

interface Scheduled {
  atMs: number;
  order: number;
  callback: () => void;
}

/** Lets every promise continuation that is ready run, as a real event loop would between timers. */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Timers that fire only when `advance` moves the clock past them, in time order (ties in the
 * order they were set), with promise continuations settled after each: for code that waits on
 * timers (the circuit gate, the pacer, the fleet link), where `ManualClock` only answers `now()`.
 */
export class ManualTimers implements Timers {
  private readonly scheduled = new Map<number, Scheduled>();
  private nextId = 1;

  constructor(private nowMs = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.nowMs;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.scheduled.set(id, { atMs: this.nowMs + Math.max(0, ms), order: id, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.scheduled.delete(handle as number);
  }

  /** Timers set and not yet fired or cleared. */
  get pending(): number {
    return this.scheduled.size;
  }

  async advance(ms: number): Promise<void> {
    const targetMs = this.nowMs + ms;
    await settle();
    for (let next = this.nextDue(targetMs); next; next = this.nextDue(targetMs)) {
      this.scheduled.delete(next[0]);
      this.nowMs = Math.max(this.nowMs, next[1].atMs);
      next[1].callback();
      await settle();
    }
    this.nowMs = targetMs;
    await settle();
  }

  private nextDue(targetMs: number): [number, Scheduled] | undefined {
    let due: [number, Scheduled] | undefined;
    for (const entry of this.scheduled) {
      if (entry[1].atMs > targetMs) continue;
      if (!due || entry[1].atMs < due[1].atMs || (entry[1].atMs === due[1].atMs && entry[1].order < due[1].order)) due = entry;
    }
    return due;
  }
}
