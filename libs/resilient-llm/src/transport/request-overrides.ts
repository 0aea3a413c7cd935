import { AsyncLocalStorage } from 'node:async_hooks';

/** Per-request settings that cross the SDK on their way to the guarded `fetch`. */
export interface RequestOverrides {
  attemptTimeoutMs?: number;
}

export const requestOverrides = new AsyncLocalStorage<RequestOverrides>();
