import { ForbiddenException } from '@nestjs/common';
import { invalidScopeException, isValidScopeKey } from '../http/scope-extractor.js';
import type { ResolvedBudgetViewOptions } from './budget-view-options.interface.js';

/** What one request to the budget view may see: a scope key (or none), and the global scope or not. */
export interface BudgetViewSelection {
  scope?: string;
  global: boolean;
}

const forbidden = (message: string) => new ForbiddenException({ statusCode: 403, code: 'budget_scope_forbidden', message });

/**
 * A caller sees its own scope (from the module's `scope` extractor, as `@Guarded` charges it),
 * and the global scope when `showGlobal` is on. `?scope=` may name the caller's own scope; any
 * other scope needs `anyScope`. Throws 400 `invalid_scope` or 403 `budget_scope_forbidden`.
 */
export function selectBudgetView(view: Pick<ResolvedBudgetViewOptions, 'showGlobal' | 'anyScope'>, callerScope: string | undefined, requested: unknown): BudgetViewSelection {
  if (requested !== undefined) {
    if (typeof requested !== 'string') throw invalidScopeException('The scope query parameter must be given once, as one scope key.');
    if (!isValidScopeKey(requested)) throw invalidScopeException();
    if (!view.anyScope && requested !== callerScope) {
      const own = callerScope === undefined ? 'This request carries no scope of its own' : `This caller's scope is "${callerScope}"`;
      throw forbidden(`${own}: it may not read the budget of scope "${requested}" (that needs the budgetView.anyScope option).`);
    }
    return { scope: requested, global: view.showGlobal };
  }
  if (callerScope === undefined && !view.showGlobal) {
    throw forbidden('This request carries no scope (see the module\'s scope option) and budgetView.showGlobal is off: there is no budget it may see.');
  }
  return { scope: callerScope, global: view.showGlobal };
}
