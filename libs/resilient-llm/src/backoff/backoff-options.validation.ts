import { checkEachBound, optionError } from '../errors/option-checks.js';
import { ResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';
import { BACKOFF_STRATEGIES } from './backoff-strategy.js';
import {
  type BackoffOptions,
  type ResolvedBackoffOptions,
  MAX_ATTEMPTS_LIMIT,
} from './backoff-options.interface.js';

/** Merges `overrides` over `base` and checks every field; `prefix` names where the options came from. */
export function resolveBackoffOptions(
  prefix: string,
  base: ResolvedBackoffOptions,
  overrides: BackoffOptions | undefined,
): ResolvedBackoffOptions {
  if (overrides !== undefined && (typeof overrides !== 'object' || overrides === null)) {
    throw optionError(prefix, 'an object', overrides);
  }
  const merged = { ...base, ...stripUndefined(overrides ?? {}) };
  if (!BACKOFF_STRATEGIES.includes(merged.strategy)) {
    throw new ResilientLlmConfigurationError(
      `${prefix}.strategy`,
      `unknown strategy "${String(merged.strategy)}"; use one of ${BACKOFF_STRATEGIES.join(', ')}`,
    );
  }
  checkEachBound(`${prefix}.baseMs`, merged.baseMs, { min: 0 });
  checkEachBound(`${prefix}.capMs`, merged.capMs, { min: merged.baseMs, minLabel: `baseMs (${merged.baseMs})` });
  checkEachBound(`${prefix}.maxAttempts`, merged.maxAttempts, {
    min: 1,
    integer: true,
    max: MAX_ATTEMPTS_LIMIT,
    maxReason: 'more attempts multiply load during an outage',
  });
  checkEachBound(`${prefix}.deadlineMs`, merged.deadlineMs, { min: 1 });
  checkEachBound(`${prefix}.serverErrorMultiplier`, merged.serverErrorMultiplier, { min: 1 });
  checkEachBound(`${prefix}.maxServerDelayMs`, merged.maxServerDelayMs, { min: 0 });
  return Object.freeze(merged);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
