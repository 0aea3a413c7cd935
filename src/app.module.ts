import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { ResilientLlmModule } from '@resilient-llm/nestjs';
import { ChatController } from './chat/chat.controller.js';
import { ChatService } from './chat/chat.service.js';
import { type AppEnvironment, validateEnvironment } from './config/environment.js';
import { EmbeddedUpstream } from './embedded-upstream/embedded-upstream.js';
import { EmbeddedUpstreamModule } from './embedded-upstream/embedded-upstream.module.js';
import { TracingLifecycle } from './tracing.lifecycle.js';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, validate: validateEnvironment }),
    ResilientLlmModule.forRootAsync({
      // GET /resilient-llm/budget: a caller sees its own x-tenant-id scope, and here the global one too.
      // The header is whatever the client says: a real app takes the scope from its authentication.
      budgetView: { showGlobal: true },
      imports: [EmbeddedUpstreamModule],
      inject: [ConfigService, EmbeddedUpstream],
      useFactory: (config: ConfigService<AppEnvironment, true>, embedded: EmbeddedUpstream) => ({
        defaultModel: config.get('LLM_MODEL', { infer: true }),
        client: embedded.upstream
          ? { apiKey: 'embedded-upstream-needs-no-key', baseURL: embedded.upstream.baseURL }
          : { apiKey: config.get('OPENAI_API_KEY', { infer: true }), baseURL: config.get('OPENAI_BASE_URL', { infer: true }) },
        budget: {
          limits: { dailyUsd: config.get('BUDGET_DAILY_USD', { infer: true }), monthlyUsd: config.get('BUDGET_MONTHLY_USD', { infer: true }) },
        },
        storage: { database: config.get('RESILIENT_LLM_DB', { infer: true }) },
        scope: { header: 'x-tenant-id' },
      }),
    }),
  ],
  controllers: [ChatController],
  providers: [ChatService, TracingLifecycle],
})
export class AppModule {}
