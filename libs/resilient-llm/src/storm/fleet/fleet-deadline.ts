import type { Timers } from '../../time/timers.js';

/** Redis took longer than the command timeout. */
export class DeadlineExpiredError extends Error {
  override readonly name = 'DeadlineExpiredError';
}

/** A promise that rejects after `ms` unless cancelled first; `cancel` must run in a `finally`. */
export function startDeadline(timers: Timers, ms: number): { expired: Promise<never>; cancel(): void } {
  let handle: unknown;
  const expired = new Promise<never>((_, reject) => {
    handle = timers.setTimeout(() => reject(new DeadlineExpiredError(`no answer from Redis within ${ms} ms`)), ms);
  });
  // Nobody awaits a deadline that lost the race.
  expired.catch(() => undefined);
  return { expired, cancel: () => timers.clearTimeout(handle) };
}
