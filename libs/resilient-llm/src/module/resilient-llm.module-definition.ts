import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ResilientLlmModuleOptions } from './resilient-llm-options.interface.js';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: RAW_OPTIONS_TOKEN, ASYNC_OPTIONS_TYPE } = new ConfigurableModuleBuilder<ResilientLlmModuleOptions>({ moduleName: 'ResilientLlm' })
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();

/** What `ResilientLlmModule.forRootAsync()` takes: `imports`, `inject`, `useFactory` (or `useClass`), `isGlobal`. */
export type ResilientLlmModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE;
