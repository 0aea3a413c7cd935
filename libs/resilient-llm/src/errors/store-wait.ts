import { StoreWaitExceededError } from './store-wait-exceeded.error.js';

/** What an operation under a store wait checks between its statements: has the wait been given up on? */
export interface StoreWaitSignal {
  readonly aborted: boolean;
  throwIfAborted(): void;
}

/** An AbortController's signal costs an EventTarget per store operation on the hot path; this is all the operations need. */
class GivenUpSignal implements StoreWaitSignal {
  reason?: StoreWaitExceededError;

  get aborted(): boolean {
    return this.reason !== undefined;
  }

  throwIfAborted(): void {
    if (this.reason) throw this.reason;
  }
}

/**
 * Runs `operation` for at most `waitMs` (real time: a store hangs in real time, whatever the
 * module's clock says). Past that it rejects with `StoreWaitExceededError` and aborts `signal`,
 * so that the operation issues no further statements; one already sent may still complete.
 */
export async function withinStoreWait<T>(waitMs: number, operation: (signal: StoreWaitSignal) => Promise<T>): Promise<T> {
  const signal = new GivenUpSignal();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      signal.reason = new StoreWaitExceededError(waitMs);
      reject(signal.reason);
    }, waitMs);
  });
  const work = operation(signal);
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
    // An abandoned operation that fails later has nobody left to tell.
    work.catch(() => undefined);
  }
}
