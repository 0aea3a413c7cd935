import type { ResolvedBackoffOptions } from '../backoff/backoff-options.interface.js';
import { resolveBackoffOptions } from '../backoff/backoff-options.validation.js';
import { ResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';
import type { PriceTable } from '../pricing/price-table.js';
import { findPrice } from '../pricing/price-table.js';
import type { BudgetLimits, BudgetOptions, ResolvedBudgetLimits, ResolvedBudgetOptions } from './budget-options.interface.js';
import { assertTimeZone } from './budget-window.js';

const MICRO = 1_000_000;

function usdToMicro(path: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ResilientLlmConfigurationError(path, `must be a dollar amount >= 0, got ${String(value)}`);
  }
  return Math.round(value * MICRO);
}

function resolveLimits(path: string, limits: BudgetLimits | undefined): ResolvedBudgetLimits {
  if (limits === undefined) return {};
  if (typeof limits !== 'object' || limits === null) throw new ResilientLlmConfigurationError(path, 'must be { dailyUsd?, monthlyUsd? }');
  for (const key of Object.keys(limits)) {
    if (key !== 'dailyUsd' && key !== 'monthlyUsd') {
      throw new ResilientLlmConfigurationError(`${path}.${key}`, 'is not a budget window; use dailyUsd or monthlyUsd');
    }
  }
  return { daily: usdToMicro(`${path}.dailyUsd`, limits.dailyUsd), monthly: usdToMicro(`${path}.monthlyUsd`, limits.monthlyUsd) };
}

const hasLimit = (limits: ResolvedBudgetLimits) => limits.daily !== undefined || limits.monthly !== undefined;

function ratio(path: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0 && value < 1)) {
    throw new ResilientLlmConfigurationError(path, `must be a fraction between 0 and 1 (exclusive), got ${String(value)}`);
  }
  return value;
}

interface Context {
  backoff: ResolvedBackoffOptions;
  attemptTimeoutMs: number;
  priceTable: PriceTable;
}

export function resolveBudgetOptions(raw: BudgetOptions | undefined, context: Context): ResolvedBudgetOptions {
  const options = raw ?? {};
  if (typeof options !== 'object' || options === null) throw new ResilientLlmConfigurationError('budget', 'must be an object');

  const global = resolveLimits('budget.limits', options.limits);
  const scopeDefault = resolveLimits('budget.scopeLimits', options.scopeLimits);
  const scopeOverrides = new Map(
    Object.entries(options.scopeOverrides ?? {}).map(([key, limits]) => [key, resolveLimits(`budget.scopeOverrides.${key}`, limits)]),
  );

  const timeZone = options.timeZone ?? 'UTC';
  try {
    assertTimeZone(timeZone);
  } catch {
    throw new ResilientLlmConfigurationError('budget.timeZone', `unknown IANA time zone "${timeZone}" (e.g. "UTC", "Europe/Berlin")`);
  }

  const warningRatio = ratio('budget.thresholds.warning', options.thresholds?.warning, 0.5);
  const criticalRatio = ratio('budget.thresholds.critical', options.thresholds?.critical, 0.8);
  if (warningRatio >= criticalRatio) {
    throw new ResilientLlmConfigurationError('budget.thresholds.warning', `must be below critical (${criticalRatio}), got ${warningRatio}`);
  }

  const minimumLeaseMs = context.backoff.deadlineMs + context.attemptTimeoutMs;
  const leaseMs = options.leaseMs ?? Math.max(600_000, minimumLeaseMs);
  if (typeof leaseMs !== 'number' || !Number.isFinite(leaseMs) || leaseMs < minimumLeaseMs) {
    throw new ResilientLlmConfigurationError(
      'budget.leaseMs',
      `must be at least backoff.deadlineMs + client.attemptTimeoutMs (${minimumLeaseMs} ms), or a live call could lose its reservation; got ${String(leaseMs)}`,
    );
  }

  const onStoreError = options.onStoreError ?? 'fail-closed';
  if (onStoreError !== 'fail-closed' && onStoreError !== 'fail-open') {
    throw new ResilientLlmConfigurationError('budget.onStoreError', `must be "fail-closed" or "fail-open", got ${String(onStoreError)}`);
  }

  const base = context.backoff;
  const strictDefaults = { maxAttempts: Math.min(2, base.maxAttempts), baseMs: base.baseMs * 2, capMs: Math.max(base.capMs, base.baseMs * 2) };
  const strictBackoff = { ...strictDefaults, ...(options.strict?.backoff ?? {}) };
  const strict = resolveBackoffOptions('budget.strict.backoff', base, strictBackoff);
  if (strict.deadlineMs + context.attemptTimeoutMs > leaseMs) {
    throw new ResilientLlmConfigurationError('budget.strict.backoff.deadlineMs', `lets a strict call outlive budget.leaseMs (${leaseMs} ms)`);
  }
  const fallbackModel = options.strict?.fallbackModel;
  if (fallbackModel !== undefined && !findPrice(context.priceTable, fallbackModel)) {
    throw new ResilientLlmConfigurationError('budget.strict.fallbackModel', `"${fallbackModel}" has no price; add it to "pricing"`);
  }

  return {
    enabled: hasLimit(global) || hasLimit(scopeDefault) || [...scopeOverrides.values()].some(hasLimit),
    global,
    scopeDefault,
    scopeOverrides,
    timeZone,
    warningRatio,
    criticalRatio,
    leaseMs,
    failOpen: onStoreError === 'fail-open',
    chargeTimedOutAttempts: options.chargeTimedOutAttempts ?? true,
    strictBackoff: strict,
    fallbackModel,
  };
}
