import type { BudgetWindowRow } from './budget-store.interface.js';
import { GLOBAL_SCOPE, scopeIdOf } from './budget-scope.js';
import type { ResolvedBudgetLimits, ResolvedBudgetOptions } from './budget-options.interface.js';
import { BUDGET_WINDOW_KINDS, windowAt } from './budget-window.js';

type Limits = Pick<ResolvedBudgetOptions, 'global' | 'scopeOverrides' | 'scopeDefault' | 'timeZone'>;

function limitsOf(budget: Limits, scopeKey: string | undefined): Array<{ scope: string; limits: ResolvedBudgetLimits }> {
  const scopes = [{ scope: GLOBAL_SCOPE, limits: budget.global }];
  if (scopeKey !== undefined) scopes.push({ scope: scopeIdOf(scopeKey), limits: budget.scopeOverrides.get(scopeKey) ?? budget.scopeDefault });
  return scopes;
}

/** The limited windows a call of `scopeKey` draws on at `now`: the global scope's, then the scope's own. */
export function scopeWindowsAt(budget: Limits, scopeKey: string | undefined, now: number): BudgetWindowRow[] {
  const rows: BudgetWindowRow[] = [];
  for (const { scope, limits } of limitsOf(budget, scopeKey)) {
    for (const kind of BUDGET_WINDOW_KINDS) {
      const limitMicro = limits[kind];
      if (limitMicro === undefined) continue;
      const window = windowAt(kind, now, budget.timeZone);
      rows.push({ id: `${scope}|${kind}|${window.period}`, scope, limitMicro, ...window });
    }
  }
  return rows;
}
