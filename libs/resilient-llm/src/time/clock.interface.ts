/** Wall-clock time in epoch milliseconds. Injected so that tests can move time by hand. */
export interface Clock {
  now(): number;
}

/** Waits for a delay. Injected so that tests do not sleep for real. */
export interface Sleeper {
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** A uniform random number in [0, 1). Injected so that jitter is reproducible in tests. */
export type RandomSource = () => number;
