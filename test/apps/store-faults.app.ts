import { Controller, Get, Module } from '@nestjs/common';
import type { ResilientLlmModuleOptions } from '@resilient-llm/nestjs';
import { budgetModule } from './budget.app.js';

/** A route that never touches the store: it must answer while the store is locked, paused or gone. */
@Controller()
export class PingController {
  @Get('ping')
  ping() {
    return { pong: true };
  }
}

/** The budget app (`POST /ask`, guarded, 32 micro-dollars a call) plus `GET /ping`. */
export function storeFaultsModule(options: ResilientLlmModuleOptions) {
  @Module({ imports: [budgetModule(options)], controllers: [PingController] })
  class StoreFaultsModule {}
  return StoreFaultsModule;
}

