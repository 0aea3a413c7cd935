import { ConfigurableModuleBuilder } from '@nestjs/common';
import { createBudgetStatusController } from '../budget/budget-status.controller.js';
import type { BudgetViewOptions } from '../budget/budget-view-options.interface.js';
import type { ResilientLlmModuleOptions } from './resilient-llm-options.interface.js';

interface ModuleExtras {
  /** Make the module's providers (and so `@Guarded`) available to every module. Default false. */
  isGlobal?: boolean;
  /**
   * Serve the read-only budget view (`GET /resilient-llm/budget`): each caller sees its own scope;
   * `{ showGlobal, anyScope, guards, path }` widen or protect it. Off unless given; checked when
   * `forRoot`/`forRootAsync` is called.
   */
  budgetView?: BudgetViewOptions | boolean;
}

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: RAW_OPTIONS_TOKEN, ASYNC_OPTIONS_TYPE } = new ConfigurableModuleBuilder<ResilientLlmModuleOptions>({ moduleName: 'ResilientLlm' })
  .setClassMethodName('forRoot')
  .setExtras<ModuleExtras>({ isGlobal: false, budgetView: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
    controllers: extras.budgetView ? [createBudgetStatusController(extras.budgetView === true ? {} : extras.budgetView)] : [],
  }))
  .build();

/** What `ResilientLlmModule.forRootAsync()` takes: `imports`, `inject`, `useFactory` (or `useClass`), `isGlobal`. */
export type ResilientLlmModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE;
