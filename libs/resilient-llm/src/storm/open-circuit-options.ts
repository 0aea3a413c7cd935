import { optionalChoice, optionalNumber, optionError } from '../errors/option-checks.js';

/** What a request meets while its upstream's circuit is open. */
export interface OpenCircuitSettings {
  /**
   * `wait` (default): the request waits for the circuit to close, within its deadline, and
   * fails at once (503 + Retry-After) when it cannot be served before its deadline.
   * `fail`: it fails at once (503 + Retry-After) while the circuit is open.
   */
  whenOpen: 'wait' | 'fail';
  /** Requests that may wait for one circuit; the next one gets 503 at once. Default 1 000. */
  maxWaiting: number;
  /** Once the circuit closes, how long the waiting requests take to be let through, in milliseconds: a ramp, so that recovery is no new storm. Default 1 000; 0 lets them all go at once. */
  releaseRampMs: number;
}

export interface OpenCircuitOptions {
  whenOpen?: 'wait' | 'fail';
  openCircuit?: { maxWaiting?: number; releaseRampMs?: number };
}

export const DEFAULT_OPEN_CIRCUIT: Readonly<OpenCircuitSettings> = Object.freeze({ whenOpen: 'wait', maxWaiting: 1_000, releaseRampMs: 1_000 });

// Above this a timer fires at once (Node clamps it to 1 ms), so a longer ramp would be no ramp at all.
const MAX_TIMER_MS = 2_147_483_647;

const wholeNumber = (option: string, value: unknown, fallback: number, max: number): number =>
  optionalNumber(option, value, fallback, { integer: true, min: 0, max });

/** Checks the open-circuit options under `path` (e.g. `stormControl`) and fills in the defaults. */
export function resolveOpenCircuitOptions(raw: OpenCircuitOptions | undefined, path = 'stormControl'): OpenCircuitSettings {
  const options = raw ?? {};
  const whenOpen = optionalChoice(`${path}.whenOpen`, options.whenOpen, ['wait', 'fail'], DEFAULT_OPEN_CIRCUIT.whenOpen);
  const openCircuit = options.openCircuit ?? {};
  if (typeof openCircuit !== 'object' || openCircuit === null) {
    throw optionError(`${path}.openCircuit`, 'an object', openCircuit);
  }
  return {
    whenOpen,
    maxWaiting: wholeNumber(`${path}.openCircuit.maxWaiting`, openCircuit.maxWaiting, DEFAULT_OPEN_CIRCUIT.maxWaiting, Number.MAX_SAFE_INTEGER),
    releaseRampMs: wholeNumber(`${path}.openCircuit.releaseRampMs`, openCircuit.releaseRampMs, DEFAULT_OPEN_CIRCUIT.releaseRampMs, MAX_TIMER_MS),
  };
}
