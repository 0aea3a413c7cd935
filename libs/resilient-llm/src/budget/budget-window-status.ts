import { microUsdToUsd } from '../pricing/price-table.js';
import type { BudgetWindowRow, BudgetWindowSnapshot } from './budget-store.interface.js';
import type { ResolvedBudgetOptions } from './budget-options.interface.js';
import { scopeKeyOf } from './budget-scope.js';
import { type BudgetState, budgetStateOf, worstState } from './budget-state.js';
import type { BudgetWindowStatus } from './budget-status.interface.js';

// A window's bounds are shown in every description of it (one per admission, for the telemetry
// gauge): each instant is formatted once. Windows start and end at a few instants a day.
const MAX_FORMATTED_INSTANTS = 256;
const formattedInstants = new Map<number, string>();

function isoStringOf(instant: number): string {
  let formatted = formattedInstants.get(instant);
  if (formatted === undefined) {
    if (formattedInstants.size >= MAX_FORMATTED_INSTANTS) formattedInstants.clear();
    formattedInstants.set(instant, (formatted = new Date(instant).toISOString()));
  }
  return formatted;
}

/** A stored window as users see it: dollars next to micro-dollars, its ratio and state. */
export function describeWindow(window: BudgetWindowSnapshot, thresholds: Pick<ResolvedBudgetOptions, 'warningRatio' | 'criticalRatio'>): BudgetWindowStatus {
  const used = window.spentMicro + window.reservedMicro;
  return {
    scope: scopeKeyOf(window.scope),
    window: window.kind,
    period: window.period,
    startsAt: isoStringOf(window.startsAt),
    endsAt: isoStringOf(window.endsAt),
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
  const states: BudgetState[] = [];
  for (const window of windows) {
    const stored = snapshotOf(snapshots, window.id);
    const usedMicro = (stored?.spentMicro ?? 0) + (stored?.reservedMicro ?? 0) + estimateMicro;
    states.push(budgetStateOf(usedMicro, window.limitMicro, thresholds.warningRatio, thresholds.criticalRatio));
  }
  return worstState(states);
}

/** The snapshot of window `id`, if read: a call has a handful of windows, a search costs less than a Map. */
export function snapshotOf(snapshots: readonly BudgetWindowSnapshot[], id: string): BudgetWindowSnapshot | undefined {
  for (const snapshot of snapshots) if (snapshot.id === id) return snapshot;
  return undefined;
}

/** `window` with the figures read for it (none: an empty window), the window's own limit and bounds kept. */
export const withFigures = (window: BudgetWindowRow, stored: BudgetWindowSnapshot | undefined): BudgetWindowSnapshot => ({
  id: window.id,
  scope: window.scope,
  kind: window.kind,
  period: window.period,
  startsAt: window.startsAt,
  endsAt: window.endsAt,
  limitMicro: window.limitMicro,
  spentMicro: stored?.spentMicro ?? 0,
  reservedMicro: stored?.reservedMicro ?? 0,
  wasteMicro: stored?.wasteMicro ?? 0,
});
