import { optionalNumber, optionError } from '../../errors/option-checks.js';
import { DEFAULT_PACING_OPTIONS, type PacingOptions, type ResolvedPacingOptions } from './pacing-options.interface.js';

/** The pacing settings, checked; undefined when pacing is turned off with `false`. */
export function resolvePacingOptions(raw: false | PacingOptions | undefined, path = 'stormControl.pacing'): ResolvedPacingOptions | undefined {
  if (raw === false) return undefined;
  if (raw !== undefined && (typeof raw !== 'object' || raw === null || Array.isArray(raw))) {
    throw optionError(path, 'false or an object', raw);
  }
  const options = raw ?? {};
  return {
    windowMs: optionalNumber(`${path}.windowMs`, options.windowMs, DEFAULT_PACING_OPTIONS.windowMs, { min: 0, exclusiveMin: true }),
    share: optionalNumber(`${path}.share`, options.share, DEFAULT_PACING_OPTIONS.share, { min: 0, exclusiveMin: true, max: 1 }),
    maxWaiting: optionalNumber(`${path}.maxWaiting`, options.maxWaiting, DEFAULT_PACING_OPTIONS.maxWaiting, { min: 0, integer: true }),
  };
}
