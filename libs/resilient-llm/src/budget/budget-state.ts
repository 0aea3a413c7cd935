export const BUDGET_STATES = ['healthy', 'warning', 'critical', 'exhausted'] as const;
export type BudgetState = (typeof BUDGET_STATES)[number];

/** A window's state from what is spent and reserved against its limit. */
export function budgetStateOf(usedMicro: number, limitMicro: number, warningRatio: number, criticalRatio: number): BudgetState {
  if (usedMicro >= limitMicro) return 'exhausted';
  const ratio = limitMicro === 0 ? 1 : usedMicro / limitMicro;
  if (ratio >= criticalRatio) return 'critical';
  if (ratio >= warningRatio) return 'warning';
  return 'healthy';
}

export const worstState = (states: BudgetState[]): BudgetState =>
  states.reduce<BudgetState>((worst, state) => (BUDGET_STATES.indexOf(state) > BUDGET_STATES.indexOf(worst) ? state : worst), 'healthy');
