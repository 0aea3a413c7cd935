import { BadRequestException, type CanActivate, Controller, Get, Query, type Type, UseGuards } from '@nestjs/common';
import { INVALID_SCOPE_MESSAGE, isValidScopeKey } from '../module/scope-extractor.js';
import { BudgetGuard } from './budget.guard.js';
import type { BudgetStatus } from './budget-status.interface.js';

export interface BudgetViewOptions {
  /** Route of the read-only view. Default `'resilient-llm/budget'`. */
  path?: string;
  /** Guards protecting it (instances, or classes whose dependencies are global). */
  guards?: Array<Type<CanActivate> | CanActivate>;
}

/**
 * A read-only `GET <path>?scope=<key>` returning the budget status of the global scope (and
 * of `scope`). Opt-in: enable it with the module's `budgetView` option, or add the returned
 * class to a module of yours to protect it with guards that need your providers.
 */
export function createBudgetStatusController(options: BudgetViewOptions = {}): Type<unknown> {
  @Controller(options.path ?? 'resilient-llm/budget')
  @UseGuards(...(options.guards ?? []))
  class BudgetStatusController {
    constructor(private readonly budget: BudgetGuard) {}

    @Get()
    async status(@Query('scope') scope?: string): Promise<{ global: BudgetStatus; scope?: BudgetStatus }> {
      if (scope !== undefined && !isValidScopeKey(scope)) {
        throw new BadRequestException({ statusCode: 400, code: 'invalid_scope', message: INVALID_SCOPE_MESSAGE });
      }
      const global = await this.budget.status();
      if (scope === undefined) return { global };
      const scoped = await this.budget.status(scope);
      return { global, scope: { ...scoped, windows: scoped.windows.filter((window) => window.scope !== 'global') } };
    }
  }
  return BudgetStatusController;
}
