import { optionalNumber, optionError } from '../../errors/option-checks.js';
import { ResilientLlmConfigurationError } from '../../errors/resilient-llm-configuration.error.js';
import { MICRO } from '../../pricing/micro-price.js';
import type { BudgetOptions, ResolvedEscrowOptions } from '../budget-options.interface.js';

const DEFAULT_MAX_SLICE_USD = 1;
const DEFAULT_SETTLE_EVERY_MS = 1_000;

/** `budget.escrow`: off unless asked for; `true` takes the defaults. */
export function resolveEscrowOptions(raw: BudgetOptions['escrow']): ResolvedEscrowOptions | undefined {
  if (raw === undefined || raw === false) return undefined;
  const options = raw === true ? {} : raw;
  if (typeof options !== 'object' || options === null) throw optionError('budget.escrow', 'a boolean or { maxSliceUsd?, settleEveryMs? }', raw);
  for (const key of Object.keys(options)) {
    if (key !== 'maxSliceUsd' && key !== 'settleEveryMs') throw new ResilientLlmConfigurationError(`budget.escrow.${key}`, 'is not an escrow option; use maxSliceUsd or settleEveryMs');
  }
  const maxSliceUsd = optionalNumber('budget.escrow.maxSliceUsd', options.maxSliceUsd, DEFAULT_MAX_SLICE_USD, { min: 0, exclusiveMin: true, accepted: 'a dollar amount > 0' });
  const settleEveryMs = optionalNumber('budget.escrow.settleEveryMs', options.settleEveryMs, DEFAULT_SETTLE_EVERY_MS, { min: 100, max: 60_000, integer: true, unit: 'milliseconds', fromTo: true });
  return { maxSliceMicro: Math.max(1, Math.round(maxSliceUsd * MICRO)), settleEveryMs };
}
