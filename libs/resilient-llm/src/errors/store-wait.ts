import { StoreWaitExceededError } from './store-wait-exceeded.error.js';

/**
 * Runs `operation` for at most `waitMs` (real time: a store hangs in real time, whatever the
 * module's clock says). Past that it rejects with `StoreWaitExceededError` and aborts `signal`,
 * so that the operation issues no further statements; one already sent may still complete.
 */
export async function withinStoreWait<T>(waitMs: number, operation: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new StoreWaitExceededError(waitMs);
      controller.abort(error);
      reject(error);
    }, waitMs);
  });
  const work = operation(controller.signal);
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
    // An abandoned operation that fails later has nobody left to tell.
    work.catch(() => undefined);
  }
}
