import type { ResolvedBackoffOptions } from '../backoff/backoff-options.interface.js';
import { resolveBackoffOptions } from '../backoff/backoff-options.validation.js';
import { checkDeadlineWithinLease, checkLease, checkNumber, defaultLeaseMs, longestCallMs, optionalChoice, optionalNumber, optionError } from '../errors/option-checks.js';
import { ResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';
import { MICRO } from '../pricing/micro-price.js';
import type { PriceTable } from '../pricing/price-table.js';
import { findPrice } from '../pricing/price-table.js';
import type { BudgetLimits, BudgetOptions, ResolvedBudgetLimits, ResolvedBudgetOptions } from './budget-options.interface.js';
import { assertTimeZone } from './budget-window.js';
import { resolveEscrowOptions } from './escrow/escrow-options.validation.js';

function usdToMicro(path: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  return Math.round(checkNumber(path, value, { min: 0, accepted: 'a dollar amount >= 0' }) * MICRO);
}

function resolveLimits(path: string, limits: BudgetLimits | undefined): ResolvedBudgetLimits {
  if (limits === undefined) return {};
  if (typeof limits !== 'object' || limits === null) throw optionError(path, '{ dailyUsd?, monthlyUsd? }', limits);
  for (const key of Object.keys(limits)) {
    if (key !== 'dailyUsd' && key !== 'monthlyUsd') {
      throw new ResilientLlmConfigurationError(`${path}.${key}`, 'is not a budget window; use dailyUsd or monthlyUsd');
    }
  }
  return { daily: usdToMicro(`${path}.dailyUsd`, limits.dailyUsd), monthly: usdToMicro(`${path}.monthlyUsd`, limits.monthlyUsd) };
}

const hasLimit = (limits: ResolvedBudgetLimits) => limits.daily !== undefined || limits.monthly !== undefined;

const FRACTION = { min: 0, exclusiveMin: true, max: 1, exclusiveMax: true, accepted: 'a fraction between 0 and 1 (exclusive)' };

interface Context {
  backoff: ResolvedBackoffOptions;
  attemptTimeoutMs: number;
  priceTable: PriceTable;
}

function resolveTimeZone(timeZone: string): string {
  try {
    assertTimeZone(timeZone);
  } catch {
    throw new ResilientLlmConfigurationError('budget.timeZone', `unknown IANA time zone "${timeZone}" (e.g. "UTC", "Europe/Berlin")`);
  }
  return timeZone;
}

/** Strict mode's backoff (by default fewer, slower attempts than the module's) and its cheaper model. */
function resolveStrictMode(options: BudgetOptions['strict'], context: Context, leaseMs: number): { strict: ResolvedBackoffOptions; fallbackModel?: string } {
  const base = context.backoff;
  const strictDefaults = { maxAttempts: Math.min(2, base.maxAttempts), baseMs: base.baseMs * 2, capMs: Math.max(base.capMs, base.baseMs * 2) };
  const strict = resolveBackoffOptions('budget.strict.backoff', base, { ...strictDefaults, ...(options?.backoff ?? {}) });
  checkDeadlineWithinLease('budget.strict.backoff.deadlineMs', strict.deadlineMs, context.attemptTimeoutMs, { option: 'budget.leaseMs', ms: leaseMs });
  const fallbackModel = options?.fallbackModel;
  if (fallbackModel !== undefined && !findPrice(context.priceTable, fallbackModel)) {
    throw new ResilientLlmConfigurationError('budget.strict.fallbackModel', `"${fallbackModel}" has no price; add it to "pricing"`);
  }
  return { strict, fallbackModel };
}

export function resolveBudgetOptions(raw: BudgetOptions | undefined, context: Context): ResolvedBudgetOptions {
  const options = raw ?? {};
  if (typeof options !== 'object' || options === null) throw optionError('budget', 'an object', options);

  const global = resolveLimits('budget.limits', options.limits);
  const scopeDefault = resolveLimits('budget.scopeLimits', options.scopeLimits);
  const scopeOverrides = new Map(
    Object.entries(options.scopeOverrides ?? {}).map(([key, limits]) => [key, resolveLimits(`budget.scopeOverrides.${key}`, limits)]),
  );

  const timeZone = resolveTimeZone(options.timeZone ?? 'UTC');
  const warningRatio = optionalNumber('budget.thresholds.warning', options.thresholds?.warning, 0.5, FRACTION);
  const criticalRatio = optionalNumber('budget.thresholds.critical', options.thresholds?.critical, 0.8, FRACTION);
  if (warningRatio >= criticalRatio) throw optionError('budget.thresholds.warning', `below critical (${criticalRatio})`, warningRatio);

  const longestMs = longestCallMs(context.backoff.deadlineMs, context.attemptTimeoutMs);
  const leaseMs = checkLease('budget.leaseMs', options.leaseMs ?? defaultLeaseMs(longestMs), longestMs, 'reservation');
  const onStoreError = optionalChoice('budget.onStoreError', options.onStoreError, ['fail-closed', 'fail-open'], 'fail-closed');

  const { strict, fallbackModel } = resolveStrictMode(options.strict, context, leaseMs);

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
    escrow: resolveEscrowOptions(options.escrow),
  };
}
