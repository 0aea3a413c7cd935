import type { FailureClassification } from '../backoff/error-classifier.js';
import type { CircuitState } from './circuit-breaker.js';

/** A circuit changed state. `remote`: another replica decided it (fleet-wide state). `atMs` on the module's clock. */
export interface CircuitTransition {
  model: string;
  from: CircuitState;
  to: CircuitState;
  atMs: number;
  remote: boolean;
}

export type CircuitTransitionListener = (transition: CircuitTransition) => void;

/**
 * One upstream request let through storm control: report its outcome once, show it what the
 * answer's headers say of the rate limits, free its slot once it is done (a stream: once read).
 */
export interface UpstreamPass {
  /** How long it waited for an open circuit, in milliseconds. */
  readonly heldMs: number;
  /** How long it waited for room under the provider's rate limit, in milliseconds. */
  readonly pacedMs: number;
  report(failure?: FailureClassification): void;
  /** `rateLimited`: the answer was a 429 for the rate (not for a spent quota). */
  observe(headers: Headers, rateLimited: boolean): void;
  release(): void;
}

export function upstreamPass(parts: {
  heldMs: number;
  pacedMs: number;
  report: (failure?: FailureClassification) => void;
  observe: (headers: Headers, rateLimited: boolean) => void;
  release: () => void;
}): UpstreamPass {
  let reported = false;
  let released = false;
  return {
    heldMs: parts.heldMs,
    pacedMs: parts.pacedMs,
    report: (failure) => {
      if (reported) return;
      reported = true;
      parts.report(failure);
    },
    observe: parts.observe,
    release: () => {
      if (released) return;
      released = true;
      parts.release();
    },
  };
}
