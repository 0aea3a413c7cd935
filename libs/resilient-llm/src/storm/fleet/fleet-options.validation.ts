import type { Redis } from 'ioredis';
import { ResilientLlmConfigurationError } from '../../errors/resilient-llm-configuration.error.js';
import type { FleetOptions, ResolvedFleetOptions } from './fleet-options.interface.js';

export const FLEET_DEFAULTS = { keyPrefix: 'resilient-llm:', syncMs: 200, commandTimeoutMs: 250 } as const;

/** Duck-typed rather than `instanceof`, so that a client from another copy of ioredis is still recognised. */
export function isRedisClient(value: unknown): value is Redis {
  const candidate = value as Partial<Redis> | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.duplicate === 'function' && typeof candidate.sendCommand === 'function';
}

function milliseconds(path: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new ResilientLlmConfigurationError(path, `must be a number of milliseconds >= ${min} and <= ${max}, got ${String(value)}`);
  }
  return value;
}

function redisTarget(path: string, value: unknown): FleetOptions['redis'] {
  if (isRedisClient(value)) return value;
  if (typeof value === 'string' && /^rediss?:\/\/./.test(value)) return value;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as FleetOptions['redis'];
  throw new ResilientLlmConfigurationError(path, `must be a redis:// or rediss:// URL, ioredis options or an ioredis client, got ${typeof value === 'string' ? `"${value}"` : String(value)}`);
}

/** Checks the `fleet` options at startup and fills in the defaults. */
export function resolveFleetOptions(raw: unknown, path = 'stormControl.fleet'): ResolvedFleetOptions {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ResilientLlmConfigurationError(path, `must be an object with a "redis" connection, got ${String(raw)}`);
  }
  const options = raw as Partial<FleetOptions>;
  const keyPrefix = options.keyPrefix ?? FLEET_DEFAULTS.keyPrefix;
  if (typeof keyPrefix !== 'string' || keyPrefix.length === 0 || keyPrefix.length > 200) {
    throw new ResilientLlmConfigurationError(`${path}.keyPrefix`, `must be a string of 1 to 200 characters, got ${String(keyPrefix)}`);
  }
  return {
    redis: redisTarget(`${path}.redis`, options.redis),
    keyPrefix,
    syncMs: milliseconds(`${path}.syncMs`, options.syncMs, FLEET_DEFAULTS.syncMs, 10, 60_000),
    commandTimeoutMs: milliseconds(`${path}.commandTimeoutMs`, options.commandTimeoutMs, FLEET_DEFAULTS.commandTimeoutMs, 1, 10_000),
  };
}
