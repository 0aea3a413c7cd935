import { optionalBoolean, optionError } from '../errors/option-checks.js';
import { ResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';
import type { BudgetViewOptions, ResolvedBudgetViewOptions } from './budget-view-options.interface.js';

const flag = (option: string, value: unknown): boolean => optionalBoolean(option, value, false);

const isGuard = (guard: unknown) =>
  typeof guard === 'function' || (typeof guard === 'object' && guard !== null && typeof (guard as { canActivate?: unknown }).canActivate === 'function');

/** `createBudgetStatusController(options)`, or the module's `budgetView: true` (`{}`) or `{ ... }`. */
export function resolveBudgetViewOptions(raw: BudgetViewOptions): ResolvedBudgetViewOptions {
  const options: unknown = raw;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw optionError('budgetView', 'true, false or { path?, guards?, showGlobal?, anyScope? }', raw);
  }
  const { path = 'resilient-llm/budget', guards = [], showGlobal, anyScope: anyScopeOption } = options as BudgetViewOptions;
  if (typeof path !== 'string' || path.trim() === '') {
    throw optionError('budgetView.path', 'a route path such as "resilient-llm/budget"', path);
  }
  if (!Array.isArray(guards) || !guards.every(isGuard)) {
    throw optionError('budgetView.guards', 'an array of guards (CanActivate classes or instances)', guards);
  }
  const anyScope = flag('budgetView.anyScope', anyScopeOption);
  if (anyScope && guards.length === 0) {
    throw new ResilientLlmConfigurationError(
      'budgetView.anyScope',
      'lets a caller read the spend of every scope (every tenant); give budgetView.guards that admit only operators, or leave anyScope off',
    );
  }
  return { path, guards, showGlobal: flag('budgetView.showGlobal', showGlobal), anyScope };
}
