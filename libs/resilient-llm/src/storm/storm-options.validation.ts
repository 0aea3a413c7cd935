import { ResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';
import { type NumberRange, optionalChoice, optionalNumber, optionError } from '../errors/option-checks.js';
import type { PriceTable } from '../pricing/price-table.js';
import { findPrice } from '../pricing/price-table.js';
import { resolveFleetOptions } from './fleet/fleet-options.validation.js';
import { resolveOpenCircuitOptions } from './open-circuit-options.js';
import { resolvePacingOptions } from './pacing/pacing-options.validation.js';
import type { ResolvedStormOptions, StormControlOptions } from './storm-options.interface.js';

const FRACTION: NumberRange = { min: 0, exclusiveMin: true, max: 1 };
const WHOLE_FROM_ONE: NumberRange = { min: 1, integer: true };

type RetryBudgetOptions = Exclude<StormControlOptions['retryBudget'], false | undefined>;
type CircuitBreakerOptions = Exclude<StormControlOptions['circuitBreaker'], false | undefined>;
type ConcurrencyOptions = NonNullable<StormControlOptions['concurrency']>;

function resolveRetryBudget(budget: RetryBudgetOptions): NonNullable<ResolvedStormOptions['retryBudget']> {
  return {
    mode: optionalChoice('stormControl.retryBudget.mode', budget.mode, ['throttle', 'ratio'], 'throttle'),
    maxTokens: optionalNumber('stormControl.retryBudget.maxTokens', budget.maxTokens, 100, { min: 1 }),
    tokenRatio: optionalNumber('stormControl.retryBudget.tokenRatio', budget.tokenRatio, 0.1, FRACTION),
    ratio: optionalNumber('stormControl.retryBudget.ratio', budget.ratio, 0.1, FRACTION),
    perModel: budget.perModel ?? false,
  };
}

function resolveCircuitBreaker(breaker: CircuitBreakerOptions): NonNullable<ResolvedStormOptions['circuitBreaker']> {
  const option = (name: string) => `stormControl.circuitBreaker.${name}`;
  return {
    mode: optionalChoice(option('mode'), breaker.mode, ['consecutive', 'rate'], 'rate'),
    consecutiveFailures: optionalNumber(option('consecutiveFailures'), breaker.consecutiveFailures, 5, WHOLE_FROM_ONE),
    failureRate: optionalNumber(option('failureRate'), breaker.failureRate, 0.5, FRACTION),
    windowMs: optionalNumber(option('windowMs'), breaker.windowMs, 10_000, { min: 1 }),
    minimumCalls: optionalNumber(option('minimumCalls'), breaker.minimumCalls, 20, WHOLE_FROM_ONE),
    openMs: optionalNumber(option('openMs'), breaker.openMs, 5_000, { min: 1 }),
    halfOpenProbes: optionalNumber(option('halfOpenProbes'), breaker.halfOpenProbes, 1, WHOLE_FROM_ONE),
  };
}

function resolveConcurrency(concurrency: ConcurrencyOptions): NonNullable<ResolvedStormOptions['concurrency']> {
  const limit = concurrency.limit === undefined ? undefined : optionalNumber('stormControl.concurrency.limit', concurrency.limit, 0, WHOLE_FROM_ONE);
  const perModel: Record<string, number> = {};
  for (const [model, value] of Object.entries(concurrency.perModel ?? {})) {
    perModel[model] = optionalNumber(`stormControl.concurrency.perModel.${model}`, value, 0, WHOLE_FROM_ONE);
  }
  return {
    limit,
    perModel,
    maxQueue: optionalNumber('stormControl.concurrency.maxQueue', concurrency.maxQueue, 100, { min: 0, integer: true }),
    queueTimeoutMs: optionalNumber('stormControl.concurrency.queueTimeoutMs', concurrency.queueTimeoutMs, 5_000, { min: 1 }),
    strictFactor: optionalNumber('stormControl.concurrency.strictFactor', concurrency.strictFactor, 0.5, FRACTION),
  };
}

function resolveFallbacks(fallbacks: Record<string, string[]>, priceTable: PriceTable): Record<string, string[]> {
  const resolved: Record<string, string[]> = {};
  for (const [model, list] of Object.entries(fallbacks)) {
    if (!Array.isArray(list) || list.length === 0) throw optionError(`stormControl.fallbacks.${model}`, 'a non-empty array of model names', list);
    for (const fallback of list) {
      if (typeof fallback !== 'string' || !findPrice(priceTable, fallback)) {
        throw new ResilientLlmConfigurationError(`stormControl.fallbacks.${model}`, `"${String(fallback)}" has no price; add it to "pricing"`);
      }
    }
    resolved[model] = [...list];
  }
  return resolved;
}

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
  if (options.retryBudget !== false) resolved.retryBudget = resolveRetryBudget(options.retryBudget ?? {});
  if (options.circuitBreaker !== false) resolved.circuitBreaker = resolveCircuitBreaker(options.circuitBreaker ?? {});
  if (options.concurrency !== undefined) resolved.concurrency = resolveConcurrency(options.concurrency);
  resolved.fallbacks = resolveFallbacks(options.fallbacks ?? {}, priceTable);
  return resolved;
}
