import type { Clock } from './clock.interface.js';
import { systemClock } from './system-time.js';

/** A clock and the timers that wake code waiting on it; injected so that specs move time by hand. */
export interface Timers extends Clock {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

// Node fires a longer timer after 1 ms (with a warning) instead of late; a wake-up this far off is left to the caller's deadline.
const LONGEST_TIMER_MS = 2_147_483_647;

/** Node's timers on `clock`, unref'd: a pending wake-up never keeps the process alive on its own. */
export function systemTimers(clock: Clock = systemClock): Timers {
  return {
    now: () => clock.now(),
    setTimeout: (callback, ms) => setTimeout(callback, Math.min(Math.max(0, ms), LONGEST_TIMER_MS)).unref(),
    clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  };
}
