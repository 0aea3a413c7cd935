import type { BudgetWindowStatus } from './budget-status.interface.js';

/**
 * Told the state of the budget windows each time the guard reads or changes them. Telemetry
 * listens (the module registers it under `RESILIENT_LLM_BUDGET_OBSERVER`), so that the budget
 * knows nothing of spans or metrics.
 */
export interface BudgetObserver {
  observeBudget(windows: BudgetWindowStatus[]): void;
}

export const RESILIENT_LLM_BUDGET_OBSERVER = 'RESILIENT_LLM:BUDGET_OBSERVER';
