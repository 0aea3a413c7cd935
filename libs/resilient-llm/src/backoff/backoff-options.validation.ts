import { ResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';
import { BACKOFF_STRATEGIES } from './backoff-strategy.js';
import {
  type BackoffOptions,
  type ResolvedBackoffOptions,
  MAX_ATTEMPTS_LIMIT,
} from './backoff-options.interface.js';

function requireNumber(path: string, value: unknown, { min, integer = false }: { min: number; integer?: boolean }): number {
  if (typeof value !== 'number' || Number.isNaN(value) || !Number.isFinite(value)) {
    throw new ResilientLlmConfigurationError(path, `must be a finite number, got ${String(value)}`);
  }
  if (integer && !Number.isInteger(value)) throw new ResilientLlmConfigurationError(path, `must be a whole number, got ${value}`);
  if (value < min) throw new ResilientLlmConfigurationError(path, `must be >= ${min}, got ${value}`);
  return value;
}

/** Merges `overrides` over `base` and checks every field; `prefix` names where the options came from. */
export function resolveBackoffOptions(
  prefix: string,
  base: ResolvedBackoffOptions,
  overrides: BackoffOptions | undefined,
): ResolvedBackoffOptions {
  if (overrides !== undefined && (typeof overrides !== 'object' || overrides === null)) {
    throw new ResilientLlmConfigurationError(prefix, 'must be an object');
  }
  const merged = { ...base, ...stripUndefined(overrides ?? {}) };
  if (!BACKOFF_STRATEGIES.includes(merged.strategy)) {
    throw new ResilientLlmConfigurationError(
      `${prefix}.strategy`,
      `unknown strategy "${String(merged.strategy)}"; use one of ${BACKOFF_STRATEGIES.join(', ')}`,
    );
  }
  requireNumber(`${prefix}.baseMs`, merged.baseMs, { min: 0 });
  requireNumber(`${prefix}.capMs`, merged.capMs, { min: 0 });
  if (merged.capMs < merged.baseMs) {
    throw new ResilientLlmConfigurationError(`${prefix}.capMs`, `must be >= baseMs (${merged.baseMs}), got ${merged.capMs}`);
  }
  requireNumber(`${prefix}.maxAttempts`, merged.maxAttempts, { min: 1, integer: true });
  if (merged.maxAttempts > MAX_ATTEMPTS_LIMIT) {
    throw new ResilientLlmConfigurationError(
      `${prefix}.maxAttempts`,
      `must be <= ${MAX_ATTEMPTS_LIMIT} (more attempts multiply load during an outage), got ${merged.maxAttempts}`,
    );
  }
  requireNumber(`${prefix}.deadlineMs`, merged.deadlineMs, { min: 1 });
  requireNumber(`${prefix}.serverErrorMultiplier`, merged.serverErrorMultiplier, { min: 1 });
  requireNumber(`${prefix}.maxServerDelayMs`, merged.maxServerDelayMs, { min: 0 });
  return Object.freeze(merged);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
