import { ResilientLlmConfigurationError } from './resilient-llm-configuration.error.js';

/**
 * Every option check of the library, so that every option error reads the same way:
 * `invalid option "<option>": must be <what it accepts>, got <the value>`.
 */
export function optionError(option: string, accepted: string, value: unknown): ResilientLlmConfigurationError {
  return new ResilientLlmConfigurationError(option, `must be ${accepted}, got ${String(value)}`);
}

export interface NumberRange {
  min?: number;
  /** The value must be above `min`, not equal to it. */
  exclusiveMin?: boolean;
  max?: number;
  /** The value must be below `max`, not equal to it. */
  exclusiveMax?: boolean;
  /** How `min` / `max` read in the message when they come from another option, e.g. `storage.maxWaitMs (2000)`. */
  minLabel?: string;
  maxLabel?: string;
  integer?: boolean;
  /** `milliseconds`, `tokens`: "a number of <unit>". */
  unit?: string;
  /** An inclusive range reads "from min to max" rather than ">= min and <= max". */
  fromTo?: boolean;
  /** What the message says is accepted, when the range alone would not say it (e.g. "a fraction between 0 and 1 (exclusive)"). */
  accepted?: string;
}

/** "a whole number of tokens from 1 to 1000000", "a number > 0 and <= 1", "a number >= 1". */
export function describeRange(range: NumberRange): string {
  if (range.accepted) return range.accepted;
  const noun = `a${range.integer ? ' whole' : ''} number${range.unit ? ` of ${range.unit}` : ''}`;
  const min = range.minLabel ?? String(range.min);
  const max = range.maxLabel ?? String(range.max);
  const lower = `${range.exclusiveMin ? '>' : '>='} ${min}`;
  const upper = `${range.exclusiveMax ? '<' : '<='} ${max}`;
  if (range.min === undefined) return range.max === undefined ? noun : `${noun} ${upper}`;
  if (range.max === undefined) return `${noun} ${lower}`;
  if (range.fromTo && !range.exclusiveMin && !range.exclusiveMax) return `${noun} from ${min} to ${max}`;
  return `${noun} ${lower} and ${upper}`;
}

/**
 * Like `checkNumber`, but the message names the first requirement the value misses (a finite
 * number, a whole number, `>= min`, `<= max`) rather than the whole range.
 */
export function checkEachBound(option: string, value: unknown, range: NumberRange & { maxReason?: string }): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw optionError(option, 'a finite number', value);
  if (range.integer && !Number.isInteger(value)) throw optionError(option, 'a whole number', value);
  if (range.min !== undefined && value < range.min) throw optionError(option, `>= ${range.minLabel ?? range.min}`, value);
  if (range.max !== undefined && value > range.max) {
    throw optionError(option, `<= ${range.maxLabel ?? range.max}${range.maxReason ? ` (${range.maxReason})` : ''}`, value);
  }
  return value;
}

export function fitsRange(value: unknown, range: NumberRange): value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (range.integer && !Number.isInteger(value)) return false;
  if (range.min !== undefined && (range.exclusiveMin ? value <= range.min : value < range.min)) return false;
  return range.max === undefined || (range.exclusiveMax ? value < range.max : value <= range.max);
}

export function checkNumber(option: string, value: unknown, range: NumberRange): number {
  if (!fitsRange(value, range)) throw optionError(option, describeRange(range), value);
  return value;
}

/** The value, checked, or `fallback` when it was left out. */
export function optionalNumber(option: string, value: unknown, fallback: number, range: NumberRange): number {
  return value === undefined ? fallback : checkNumber(option, value, range);
}

export function optionalString(option: string, value: unknown): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  throw optionError(option, 'a string', typeof value);
}

export function optionalBoolean(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw optionError(option, 'true or false', value);
  return value;
}

/** One of `choices`, or `fallback` when left out. */
export function optionalChoice<T extends string>(option: string, value: unknown, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!choices.includes(value as T)) throw optionError(option, choices.map((choice) => `"${choice}"`).join(' or '), value);
  return value as T;
}

// RFC 9110 field names use more characters; these are the ones a proxy never mangles.
const HEADER_NAME = /^[A-Za-z0-9-]+$/;

export const isHeaderName = (value: unknown): value is string => typeof value === 'string' && HEADER_NAME.test(value);

/**
 * The lease rule: a call may run its deadline plus one attempt started just before it, so a
 * lease (a budget reservation's, an idempotency key's) shorter than that could lapse while the
 * call still runs, and the call would lose what the lease held.
 */
const DEFAULT_LEASE_MS = 600_000;

export const longestCallMs = (deadlineMs: number, attemptTimeoutMs: number): number => deadlineMs + attemptTimeoutMs;

/** Ten minutes, or longer when calls may last longer. */
export const defaultLeaseMs = (longestMs: number): number => Math.max(DEFAULT_LEASE_MS, longestMs);

/** A lease option, checked against the longest call the module's backoff allows. */
export function checkLease(option: string, leaseMs: unknown, longestMs: number, held: string): number {
  const accepted = `at least backoff.deadlineMs + client.attemptTimeoutMs (${longestMs} ms), so that a live call keeps its ${held}`;
  if (typeof leaseMs !== 'number' || !Number.isFinite(leaseMs) || leaseMs < longestMs) throw optionError(option, accepted, leaseMs);
  return leaseMs;
}

/** A deadline narrower than the module's (strict mode's, a handler's), checked against a lease already resolved. */
export function checkDeadlineWithinLease(option: string, deadlineMs: number, attemptTimeoutMs: number, lease: { option: string; ms: number }): void {
  if (longestCallMs(deadlineMs, attemptTimeoutMs) <= lease.ms) return;
  throw optionError(option, `at most ${lease.option} - client.attemptTimeoutMs (${lease.ms - attemptTimeoutMs} ms), or a call could outlive its lease`, deadlineMs);
}
