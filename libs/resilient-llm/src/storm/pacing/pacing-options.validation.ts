import { ResilientLlmConfigurationError } from '../../errors/resilient-llm-configuration.error.js';
import { DEFAULT_PACING_OPTIONS, type PacingOptions, type ResolvedPacingOptions } from './pacing-options.interface.js';

interface Range {
  min: number;
  exclusiveMin?: boolean;
  max?: number;
  integer?: boolean;
}

function checkNumber(path: string, value: unknown, fallback: number, { min, exclusiveMin = false, max = Number.POSITIVE_INFINITY, integer = false }: Range): number {
  if (value === undefined) return fallback;
  const fits =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!integer || Number.isInteger(value)) &&
    (exclusiveMin ? value > min : value >= min) &&
    value <= max;
  if (fits) return value;
  const range = `${exclusiveMin ? '>' : '>='} ${min}${max === Number.POSITIVE_INFINITY ? '' : ` and <= ${max}`}`;
  throw new ResilientLlmConfigurationError(path, `must be a${integer ? ' whole' : ''} number ${range}, got ${String(value)}`);
}

/** The pacing settings, checked; undefined when pacing is turned off with `false`. */
export function resolvePacingOptions(raw: false | PacingOptions | undefined, path = 'stormControl.pacing'): ResolvedPacingOptions | undefined {
  if (raw === false) return undefined;
  if (raw !== undefined && (typeof raw !== 'object' || raw === null || Array.isArray(raw))) {
    throw new ResilientLlmConfigurationError(path, `must be false or an object, got ${String(raw)}`);
  }
  const options = raw ?? {};
  return {
    windowMs: checkNumber(`${path}.windowMs`, options.windowMs, DEFAULT_PACING_OPTIONS.windowMs, { min: 0, exclusiveMin: true }),
    share: checkNumber(`${path}.share`, options.share, DEFAULT_PACING_OPTIONS.share, { min: 0, exclusiveMin: true, max: 1 }),
    maxWaiting: checkNumber(`${path}.maxWaiting`, options.maxWaiting, DEFAULT_PACING_OPTIONS.maxWaiting, { min: 0, integer: true }),
  };
}
