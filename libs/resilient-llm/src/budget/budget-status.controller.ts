import {
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  HttpException,
  Injectable,
  Logger,
  ServiceUnavailableException,
  type Type,
  UseGuards,
  createParamDecorator,
} from '@nestjs/common';
import { type ScopeSettings, resolveScopeKey } from '../http/scope-extractor.js';
import { InjectScopeSettings } from '../resilient-llm.constants.js';
import { BudgetGuard } from './budget.guard.js';
import { worstState } from './budget-state.js';
import type { BudgetStatus } from './budget-status.interface.js';
import { type BudgetViewSelection, selectBudgetView } from './budget-view-access.js';
import type { BudgetViewOptions, ResolvedBudgetViewOptions } from './budget-view-options.interface.js';
import { resolveBudgetViewOptions } from './budget-view-options.validation.js';

const SELECTION = Symbol.for('resilient-llm.budgetViewSelection');

type ViewRequest = { query?: Record<string, unknown>; [SELECTION]?: BudgetViewSelection };

/** The scopes the guard let this request see. */
const SelectedScopes = createParamDecorator((_: unknown, context: ExecutionContext) => context.switchToHttp().getRequest<ViewRequest>()[SELECTION]);

/** Runs after the user's guards, so that an extractor may read what they authenticated. */
function budgetViewerGuard(view: ResolvedBudgetViewOptions): Type<CanActivate> {
  @Injectable()
  class BudgetViewerGuard implements CanActivate {
    constructor(@InjectScopeSettings() private readonly options: ScopeSettings) {
      if (view.guards.length === 0 && options.extractScope) {
        new Logger('BudgetStatusController').warn(
          'The budget view has no guards: a caller sees the scope the scope extractor reads from its request. If that is a header ' +
            'the caller sets (scope.header), anyone can read any tenant\'s spend; give budgetView.guards that authenticate the caller.',
        );
      }
    }

    canActivate(context: ExecutionContext): boolean {
      const request = context.switchToHttp().getRequest<ViewRequest>();
      request[SELECTION] = selectBudgetView(view, resolveScopeKey(this.options, context), request.query?.scope);
      return true;
    }
  }
  return BudgetViewerGuard;
}

/** The scope's own state: the global windows (maybe hidden from this caller) must not show through it. */
function ownScopeStatus(scoped: BudgetStatus): BudgetStatus {
  const windows = scoped.windows.filter((window) => window.scope !== 'global');
  return { ...scoped, windows, state: worstState(windows.map((window) => window.state)) };
}

/**
 * A read-only `GET <path>[?scope=<key>]`: the budget status of the caller's own scope (and of
 * the global scope with `showGlobal`). Opt-in: enable it with the module's `budgetView` option,
 * or add the returned class to a module of yours to protect it with guards that need your providers.
 */
export function createBudgetStatusController(options: BudgetViewOptions = {}): Type<unknown> {
  const view = resolveBudgetViewOptions(options);

  @Controller(view.path)
  @UseGuards(...view.guards, budgetViewerGuard(view))
  class BudgetStatusController {
    private readonly logger = new Logger('BudgetStatusController');

    constructor(private readonly budget: BudgetGuard) {}

    @Get()
    async status(@SelectedScopes() selection: BudgetViewSelection): Promise<{ global?: BudgetStatus; scope?: BudgetStatus }> {
      try {
        const global = selection.global ? await this.budget.status() : undefined;
        if (selection.scope === undefined) return { global };
        return { global, scope: ownScopeStatus(await this.budget.status(selection.scope)) };
      } catch (error) {
        if (error instanceof HttpException) throw error;
        // The driver's message goes to the log, not to the caller: it can name hosts and users.
        this.logger.error(`Budget store unavailable, the budget view cannot be read: ${(error as Error).message}`);
        throw new ServiceUnavailableException(
          { statusCode: 503, code: 'budget_store_unavailable', message: 'The budget store is unavailable; the budget view can be read once it is back.' },
          { cause: error },
        );
      }
    }
  }
  return BudgetStatusController;
}
