import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { ResilientLlmClient, ResilientLlmModule } from '@resilient-llm/nestjs';
import type { Strategy } from './strategies.js';

/**
 * This module's full stack on a lone client call: full-jitter backoff (3 attempts), the retry
 * budget, the circuit breaker, and the budget guard where the scenario has a dollar limit.
 * Every duration is scaled like the scenario's.
 */
export function resilientLlmStrategy(budgetUsd?: number): Strategy {
  return {
    name: 'resilient-llm (full stack)',
    create: async (context) => {
      const s = (value: number) => Math.max(1, Math.round(value * context.scale));
      const moduleRef = await Test.createTestingModule({
        imports: [
          ResilientLlmModule.forRoot({
            client: { apiKey: 'bench', baseURL: context.baseURL, attemptTimeoutMs: s(context.attemptTimeoutMs) },
            defaultModel: context.model,
            backoff: { strategy: 'full', baseMs: s(500), capMs: s(8_000), maxAttempts: 3, deadlineMs: s(60_000), maxServerDelayMs: s(60_000) },
            // The bucket sized to the burst: 1000 concurrent requests, 5% of them timing out together.
            stormControl: { retryBudget: { maxTokens: 200 }, circuitBreaker: { openMs: s(5_000), windowMs: s(10_000) } },
            ...(budgetUsd !== undefined && {
              budget: { limits: { dailyUsd: budgetUsd }, leaseMs: s(60_000) + s(context.attemptTimeoutMs) },
              storage: { database: ':memory:' },
            }),
          }),
        ],
      }).compile();
      const app = moduleRef.createNestApplication({ logger: false });
      await app.init();
      const client = app.get(ResilientLlmClient);
      return {
        send: () => client.createChatCompletion({ model: context.model, messages: [{ role: 'user', content: context.prompt }], max_tokens: 64 }),
        close: () => app.close(),
      };
    },
  };
}
