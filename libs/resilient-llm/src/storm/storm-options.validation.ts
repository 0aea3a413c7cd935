import { ResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';
import { type NumberRange, optionalChoice, optionalNumber, optionError } from '../errors/option-checks.js';
import type { PriceTable } from '../pricing/price-table.js';
import { findPrice } from '../pricing/price-table.js';
import { resolveFleetOptions } from './fleet/fleet-options.validation.js';
import { resolveOpenCircuitOptions } from './open-circuit-options.js';
import { resolvePacingOptions } from './pacing/pacing-options.validation.js';
import type { ResolvedStormOptions, StormControlOptions } from './storm-options.interface.js';

const FRACTION: NumberRange = { min: 0, exclusiveMin: true, max: 1 };

export function resolveStormOptions(raw: StormControlOptions | undefined, priceTable: PriceTable): ResolvedStormOptions {
  const options = raw ?? {};
  const resolved: ResolvedStormOptions = {
    fallbacks: {},
    localStallMs: optionalNumber('stormControl.localStallMs', options.localStallMs, 500, { min: 1 }),
    openCircuit: resolveOpenCircuitOptions(options),
  };
  const pacing = resolvePacingOptions(options.pacing);
  if (pacing) resolved.pacing = pacing;
  if (options.fleet !== undefined) resolved.fleet = resolveFleetOptions(options.fleet);

  if (options.retryBudget !== false) {
    const budget = options.retryBudget ?? {};
    const mode = optionalChoice('stormControl.retryBudget.mode', budget.mode, ['throttle', 'ratio'], 'throttle');
    resolved.retryBudget = {
      mode,
      maxTokens: optionalNumber('stormControl.retryBudget.maxTokens', budget.maxTokens, 100, { min: 1 }),
      tokenRatio: optionalNumber('stormControl.retryBudget.tokenRatio', budget.tokenRatio, 0.1, FRACTION),
      ratio: optionalNumber('stormControl.retryBudget.ratio', budget.ratio, 0.1, FRACTION),
      perModel: budget.perModel ?? false,
    };
  }

  if (options.circuitBreaker !== false) {
    const breaker = options.circuitBreaker ?? {};
    const mode = optionalChoice('stormControl.circuitBreaker.mode', breaker.mode, ['consecutive', 'rate'], 'rate');
    resolved.circuitBreaker = {
      mode,
      consecutiveFailures: optionalNumber('stormControl.circuitBreaker.consecutiveFailures', breaker.consecutiveFailures, 5, { min: 1, integer: true }),
      failureRate: optionalNumber('stormControl.circuitBreaker.failureRate', breaker.failureRate, 0.5, FRACTION),
      windowMs: optionalNumber('stormControl.circuitBreaker.windowMs', breaker.windowMs, 10_000, { min: 1 }),
      minimumCalls: optionalNumber('stormControl.circuitBreaker.minimumCalls', breaker.minimumCalls, 20, { min: 1, integer: true }),
      openMs: optionalNumber('stormControl.circuitBreaker.openMs', breaker.openMs, 5_000, { min: 1 }),
      halfOpenProbes: optionalNumber('stormControl.circuitBreaker.halfOpenProbes', breaker.halfOpenProbes, 1, { min: 1, integer: true }),
    };
  }

  if (options.concurrency !== undefined) {
    const concurrency = options.concurrency;
    const limit = concurrency.limit === undefined ? undefined : optionalNumber('stormControl.concurrency.limit', concurrency.limit, 0, { min: 1, integer: true });
    const perModel: Record<string, number> = {};
    for (const [model, value] of Object.entries(concurrency.perModel ?? {})) {
      perModel[model] = optionalNumber(`stormControl.concurrency.perModel.${model}`, value, 0, { min: 1, integer: true });
    }
    resolved.concurrency = {
      limit,
      perModel,
      maxQueue: optionalNumber('stormControl.concurrency.maxQueue', concurrency.maxQueue, 100, { min: 0, integer: true }),
      queueTimeoutMs: optionalNumber('stormControl.concurrency.queueTimeoutMs', concurrency.queueTimeoutMs, 5_000, { min: 1 }),
      strictFactor: optionalNumber('stormControl.concurrency.strictFactor', concurrency.strictFactor, 0.5, FRACTION),
    };
  }

  for (const [model, list] of Object.entries(options.fallbacks ?? {})) {
    if (!Array.isArray(list) || list.length === 0) throw optionError(`stormControl.fallbacks.${model}`, 'a non-empty array of model names', list);
    for (const fallback of list) {
      if (typeof fallback !== 'string' || !findPrice(priceTable, fallback)) {
        throw new ResilientLlmConfigurationError(`stormControl.fallbacks.${model}`, `"${String(fallback)}" has no price; add it to "pricing"`);
      }
    }
    resolved.fallbacks[model] = [...list];
  }
  return resolved;
}
