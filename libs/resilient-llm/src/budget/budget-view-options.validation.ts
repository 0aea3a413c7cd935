import { ResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';
import type { BudgetViewOptions, ResolvedBudgetViewOptions } from './budget-view-options.interface.js';

function flag(option: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new ResilientLlmConfigurationError(option, `must be true or false, got ${String(value)}`);
  return value;
}

const isGuard = (guard: unknown) =>
  typeof guard === 'function' || (typeof guard === 'object' && guard !== null && typeof (guard as { canActivate?: unknown }).canActivate === 'function');

/** `createBudgetStatusController(options)`, or the module's `budgetView: true` (`{}`) or `{ ... }`. */
export function resolveBudgetViewOptions(raw: BudgetViewOptions): ResolvedBudgetViewOptions {
  const options: unknown = raw;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ResilientLlmConfigurationError('budgetView', `must be true, false or { path?, guards?, showGlobal?, anyScope? }, got ${String(raw)}`);
  }
  const { path = 'resilient-llm/budget', guards = [], showGlobal, anyScope: anyScopeOption } = options as BudgetViewOptions;
  if (typeof path !== 'string' || path.trim() === '') {
    throw new ResilientLlmConfigurationError('budgetView.path', `must be a route path such as "resilient-llm/budget", got ${String(path)}`);
  }
  if (!Array.isArray(guards) || !guards.every(isGuard)) {
    throw new ResilientLlmConfigurationError('budgetView.guards', 'must be an array of guards (CanActivate classes or instances)');
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
