import { microUsdToUsd } from '../pricing/price-table.js';
import type { BudgetWindowRow, BudgetWindowSnapshot } from './budget-store.interface.js';
import type { ResolvedBudgetOptions } from './budget-options.interface.js';
import { scopeKeyOf } from './budget-scope.js';
import { type BudgetState, budgetStateOf, worstState } from './budget-state.js';
import type { BudgetWindowStatus } from './budget-status.interface.js';

/** A stored window as users see it: dollars next to micro-dollars, its ratio and state. */
export function describeWindow(window: BudgetWindowSnapshot, thresholds: Pick<ResolvedBudgetOptions, 'warningRatio' | 'criticalRatio'>): BudgetWindowStatus {
  const used = window.spentMicro + window.reservedMicro;
  return {
    scope: scopeKeyOf(window.scope),
    window: window.kind,
    period: window.period,
    startsAt: new Date(window.startsAt).toISOString(),
    endsAt: new Date(window.endsAt).toISOString(),
    limitMicroUsd: window.limitMicro,
    spentMicroUsd: window.spentMicro,
    reservedMicroUsd: window.reservedMicro,
    wasteMicroUsd: window.wasteMicro,
    limitUsd: microUsdToUsd(window.limitMicro),
    spentUsd: microUsdToUsd(window.spentMicro),
    reservedUsd: microUsdToUsd(window.reservedMicro),
    ratio: window.limitMicro === 0 ? 1 : used / window.limitMicro,
    state: budgetStateOf(used, window.limitMicro, thresholds.warningRatio, thresholds.criticalRatio),
  };
}

/** The window closest to its limit. */
export const tightestOf = (statuses: BudgetWindowStatus[]): BudgetWindowStatus | undefined =>
  statuses.reduce<BudgetWindowStatus | undefined>((tightest, status) => (!tightest || status.ratio > tightest.ratio ? status : tightest), undefined);

/**
 * The worst state of `windows` (with this replica's limits) once a call holds `estimateMicro` in
 * each: a window not stored yet is empty, and the estimate counts in it all the same.
 */
export function stateWithEstimate(
  windows: readonly BudgetWindowRow[],
  snapshots: readonly BudgetWindowSnapshot[],
  estimateMicro: number,
  thresholds: Pick<ResolvedBudgetOptions, 'warningRatio' | 'criticalRatio'>,
): BudgetState {
  const stored = new Map(snapshots.map((snapshot) => [snapshot.id, snapshot]));
  const used = (window: BudgetWindowRow) => (stored.get(window.id)?.spentMicro ?? 0) + (stored.get(window.id)?.reservedMicro ?? 0) + estimateMicro;
  return worstState(windows.map((window) => budgetStateOf(used(window), window.limitMicro, thresholds.warningRatio, thresholds.criticalRatio)));
}
