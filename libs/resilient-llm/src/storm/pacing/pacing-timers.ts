import type { Clock } from '../../time/clock.interface.js';

/** The clock and the timers a pacer waits with; injected so that specs drive time by hand. */
export interface PacingTimers extends Clock {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

// Node fires a longer timer after 1 ms (with a warning) instead of late; a wake-up at most this far off is harmless.
const LONGEST_TIMER_MS = 2_147_483_647;

export const systemPacingTimers: PacingTimers = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, Math.min(Math.max(0, ms), LONGEST_TIMER_MS)),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
