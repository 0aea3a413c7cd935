/** The clock and timers the fleet link waits on (sync ticks, deadlines), injected so that specs can drive them. */
export interface FleetTimers {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's timers, unref'd: a pending sync tick or deadline never keeps a process alive on its own. */
export const nodeTimers: FleetTimers = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Redis took longer than the command timeout. */
export class DeadlineExpiredError extends Error {
  override readonly name = 'DeadlineExpiredError';
}

/** A promise that rejects after `ms` unless cancelled first; `cancel` must run in a `finally`. */
export function startDeadline(timers: FleetTimers, ms: number): { expired: Promise<never>; cancel(): void } {
  let handle: unknown;
  const expired = new Promise<never>((_, reject) => {
    handle = timers.setTimeout(() => reject(new DeadlineExpiredError(`no answer from Redis within ${ms} ms`)), ms);
  });
  // Nobody awaits a deadline that lost the race.
  expired.catch(() => undefined);
  return { expired, cancel: () => timers.clearTimeout(handle) };
}
