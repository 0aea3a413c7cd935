import { ResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';
import type { PriceTable } from '../pricing/price-table.js';
import { findPrice } from '../pricing/price-table.js';
import { resolveFleetOptions } from './fleet/fleet-options.validation.js';
import { resolveOpenCircuitOptions } from './open-circuit-options.js';
import { resolvePacingOptions } from './pacing/pacing-options.validation.js';
import type { ResolvedStormOptions, StormControlOptions } from './storm-options.interface.js';

function number(path: string, value: unknown, fallback: number, { min, max = Number.POSITIVE_INFINITY, integer = false, exclusiveMin = false }: { min: number; max?: number; integer?: boolean; exclusiveMin?: boolean }): number {
  if (value === undefined) return fallback;
  const bad =
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    (integer && !Number.isInteger(value)) ||
    (exclusiveMin ? value <= min : value < min) ||
    value > max;
  if (bad) {
    const range = `${exclusiveMin ? '>' : '>='} ${min}${max !== Number.POSITIVE_INFINITY ? ` and <= ${max}` : ''}`;
    throw new ResilientLlmConfigurationError(path, `must be a${integer ? ' whole' : ''} number ${range}, got ${String(value)}`);
  }
  return value as number;
}

export function resolveStormOptions(raw: StormControlOptions | undefined, priceTable: PriceTable): ResolvedStormOptions {
  const options = raw ?? {};
  const resolved: ResolvedStormOptions = {
    fallbacks: {},
    localStallMs: number('stormControl.localStallMs', options.localStallMs, 500, { min: 1 }),
    openCircuit: resolveOpenCircuitOptions(options),
  };
  const pacing = resolvePacingOptions(options.pacing);
  if (pacing) resolved.pacing = pacing;
  if (options.fleet !== undefined) resolved.fleet = resolveFleetOptions(options.fleet);

  if (options.retryBudget !== false) {
    const budget = options.retryBudget ?? {};
    const mode = budget.mode ?? 'throttle';
    if (mode !== 'throttle' && mode !== 'ratio') throw new ResilientLlmConfigurationError('stormControl.retryBudget.mode', `must be "throttle" or "ratio", got ${String(mode)}`);
    resolved.retryBudget = {
      mode,
      maxTokens: number('stormControl.retryBudget.maxTokens', budget.maxTokens, 100, { min: 1 }),
      tokenRatio: number('stormControl.retryBudget.tokenRatio', budget.tokenRatio, 0.1, { min: 0, max: 1, exclusiveMin: true }),
      ratio: number('stormControl.retryBudget.ratio', budget.ratio, 0.1, { min: 0, max: 1, exclusiveMin: true }),
      perModel: budget.perModel ?? false,
    };
  }

  if (options.circuitBreaker !== false) {
    const breaker = options.circuitBreaker ?? {};
    const mode = breaker.mode ?? 'rate';
    if (mode !== 'consecutive' && mode !== 'rate') throw new ResilientLlmConfigurationError('stormControl.circuitBreaker.mode', `must be "consecutive" or "rate", got ${String(mode)}`);
    resolved.circuitBreaker = {
      mode,
      consecutiveFailures: number('stormControl.circuitBreaker.consecutiveFailures', breaker.consecutiveFailures, 5, { min: 1, integer: true }),
      failureRate: number('stormControl.circuitBreaker.failureRate', breaker.failureRate, 0.5, { min: 0, max: 1, exclusiveMin: true }),
      windowMs: number('stormControl.circuitBreaker.windowMs', breaker.windowMs, 10_000, { min: 1 }),
      minimumCalls: number('stormControl.circuitBreaker.minimumCalls', breaker.minimumCalls, 20, { min: 1, integer: true }),
      openMs: number('stormControl.circuitBreaker.openMs', breaker.openMs, 5_000, { min: 1 }),
      halfOpenProbes: number('stormControl.circuitBreaker.halfOpenProbes', breaker.halfOpenProbes, 1, { min: 1, integer: true }),
    };
  }

  if (options.concurrency !== undefined) {
    const concurrency = options.concurrency;
    const limit = concurrency.limit === undefined ? undefined : number('stormControl.concurrency.limit', concurrency.limit, 0, { min: 1, integer: true });
    const perModel: Record<string, number> = {};
    for (const [model, value] of Object.entries(concurrency.perModel ?? {})) {
      perModel[model] = number(`stormControl.concurrency.perModel.${model}`, value, 0, { min: 1, integer: true });
    }
    resolved.concurrency = {
      limit,
      perModel,
      maxQueue: number('stormControl.concurrency.maxQueue', concurrency.maxQueue, 100, { min: 0, integer: true }),
      queueTimeoutMs: number('stormControl.concurrency.queueTimeoutMs', concurrency.queueTimeoutMs, 5_000, { min: 1 }),
      strictFactor: number('stormControl.concurrency.strictFactor', concurrency.strictFactor, 0.5, { min: 0, max: 1, exclusiveMin: true }),
    };
  }

  for (const [model, list] of Object.entries(options.fallbacks ?? {})) {
    if (!Array.isArray(list) || list.length === 0) throw new ResilientLlmConfigurationError(`stormControl.fallbacks.${model}`, 'must be a non-empty array of model names');
    for (const fallback of list) {
      if (typeof fallback !== 'string' || !findPrice(priceTable, fallback)) {
        throw new ResilientLlmConfigurationError(`stormControl.fallbacks.${model}`, `"${String(fallback)}" has no price; add it to "pricing"`);
      }
    }
    resolved.fallbacks[model] = [...list];
  }
  return resolved;
}
