import type { CanActivate, Type } from '@nestjs/common';

/** The read-only budget view (`budgetView` module option, or `createBudgetStatusController`). */
export interface BudgetViewOptions {
  /** Route of the read-only view. Default `'resilient-llm/budget'`. */
  path?: string;
  /** Guards protecting it, run before the scope check (instances, or classes whose dependencies are global). */
  guards?: Array<Type<CanActivate> | CanActivate>;
  /** Also show the global scope's budget (every tenant's spend added up) to every caller. Default false. */
  showGlobal?: boolean;
  /**
   * Let a caller read any scope with `?scope=<key>`, not only its own: an operator's view.
   * Default false; refused at startup unless `guards` are given too.
   */
  anyScope?: boolean;
}

export interface ResolvedBudgetViewOptions {
  path: string;
  guards: Array<Type<CanActivate> | CanActivate>;
  showGlobal: boolean;
  anyScope: boolean;
}
