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
export function withinStoreWait<T>(waitMs: number, operation: (signal: StoreWaitSignal) => Promise<T>): Promise<T> {
  // One promise and one timer: this wraps every store step of every call, and Promise.race with a
  // promise of the timeout costs three more promises a step.
  return new Promise<T>((resolve, reject) => {
    const signal = new GivenUpSignal();
    const timer = setTimeout(() => {
      signal.reason = new StoreWaitExceededError(waitMs);
      reject(signal.reason);
    }, waitMs);
    const settle = () => clearTimeout(timer);
    let work: Promise<T>;
    try {
      work = operation(signal);
    } catch (error) {
      settle();
      reject(error);
      return;
    }
    // An abandoned operation that fails later has nobody left to tell: the promise is settled already.
    work.then(
      (value) => {
        settle();
        resolve(value);
      },
      (error: unknown) => {
        settle();
        reject(error);
      },
    );
  });
}
