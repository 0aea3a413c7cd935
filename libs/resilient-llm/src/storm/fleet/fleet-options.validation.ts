import type { Redis } from 'ioredis';
import { optionalNumber, optionError } from '../../errors/option-checks.js';
import type { FleetOptions, ResolvedFleetOptions } from './fleet-options.interface.js';

export const FLEET_DEFAULTS = { keyPrefix: 'resilient-llm:', syncMs: 200, commandTimeoutMs: 250 } as const;

/** Duck-typed rather than `instanceof`, so that a client from another copy of ioredis is still recognised. */
export function isRedisClient(value: unknown): value is Redis {
  const candidate = value as Partial<Redis> | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.duplicate === 'function' && typeof candidate.sendCommand === 'function';
}

const milliseconds = (option: string, value: unknown, fallback: number, min: number, max: number): number =>
  optionalNumber(option, value, fallback, { unit: 'milliseconds', min, max });

function redisTarget(path: string, value: unknown): FleetOptions['redis'] {
  if (isRedisClient(value)) return value;
  if (typeof value === 'string' && /^rediss?:\/\/./.test(value)) return value;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as FleetOptions['redis'];
  throw optionError(path, 'a redis:// or rediss:// URL, ioredis options or an ioredis client', typeof value === 'string' ? `"${value}"` : value);
}

/** Checks the `fleet` options at startup and fills in the defaults. */
export function resolveFleetOptions(raw: unknown, path = 'stormControl.fleet'): ResolvedFleetOptions {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw optionError(path, 'an object with a "redis" connection', raw);
  }
  const options = raw as Partial<FleetOptions>;
  const keyPrefix = options.keyPrefix ?? FLEET_DEFAULTS.keyPrefix;
  if (typeof keyPrefix !== 'string' || keyPrefix.length === 0 || keyPrefix.length > 200) {
    throw optionError(`${path}.keyPrefix`, 'a string of 1 to 200 characters', keyPrefix);
  }
  return {
    redis: redisTarget(`${path}.redis`, options.redis),
    keyPrefix,
    syncMs: milliseconds(`${path}.syncMs`, options.syncMs, FLEET_DEFAULTS.syncMs, 10, 60_000),
    commandTimeoutMs: milliseconds(`${path}.commandTimeoutMs`, options.commandTimeoutMs, FLEET_DEFAULTS.commandTimeoutMs, 1, 10_000),
  };
}
