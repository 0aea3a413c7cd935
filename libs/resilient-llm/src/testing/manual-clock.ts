import type { Clock, Sleeper } from '../time/clock.interface.js';

/**
 * A clock that moves only when told, and a sleeper that returns at once after moving it.
 * Override `RESILIENT_LLM_CLOCK` and `RESILIENT_LLM_SLEEPER` with one instance to test
 * backoff without waiting: `sleeps` lists every delay the code asked for.
 */
export class ManualClock implements Clock, Sleeper {
  readonly sleeps: number[] = [];

  constructor(private nowMs = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.nowMs;
  }

  advance(ms: number): void {
    this.nowMs += ms;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.sleeps.push(ms);
    this.nowMs += ms;
  }
}

/** A repeatable random source: cycles through `values` (each in [0, 1)). */
export function sequenceRandom(values: number[]): () => number {
  let index = 0;
  return () => values[index++ % values.length];
}
