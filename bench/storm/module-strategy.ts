import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { type CircuitTransition, type ResilientLlmModuleOptions, ResilientLlmClient, ResilientLlmModule, StormControl } from '@resilient-llm/nestjs';
import { MAX_TOKENS, logicalRequestHeaders } from './request-shape.js';
import type { Strategy, StrategyContext, StrategyInstance } from './strategies.js';

/** A circuit transition as `StormControl.onCircuitTransition` reports it. */
export type CircuitTransitionEvent = CircuitTransition;

export interface ModuleStrategySettings {
  /** The budget guard's daily limit, where the scenario has one. */
  budgetUsd?: number;
  /** Fleet-wide storm state through Redis (scenario (f)); each process keeps its own without it. */
  fleet?: { redis: string; keyPrefix: string };
  onCircuitTransition?: (event: CircuitTransitionEvent) => void;
}

/**
 * This module's options for a scenario, every duration scaled like the scenario's: full-jitter
 * backoff (3 attempts), the retry budget, the circuit breaker (requests wait while it is open, then
 * are released at a ramp), pacing to the provider's rate-limit headers, and the budget guard where
 * the scenario has a dollar limit.
 */
export function moduleOptions(context: StrategyContext, settings: ModuleStrategySettings): ResilientLlmModuleOptions {
  const s = (value: number) => Math.max(1, Math.round(value * context.scale));
  const { budgetUsd, fleet } = settings;
  const stormControl: ResilientLlmModuleOptions['stormControl'] = {
    // The bucket sized to the burst: 1000 concurrent requests, 5% of them timing out together.
    retryBudget: { maxTokens: 200 },
    circuitBreaker: { openMs: s(5_000), windowMs: s(10_000) },
    whenOpen: 'wait',
    openCircuit: { releaseRampMs: s(1_000) },
    // The provider's "minute" is scaled like every other duration.
    pacing: { windowMs: s(60_000) },
    // The fleet's sync tick is a duration of the scenario's too.
    ...(fleet && { fleet: { ...fleet, syncMs: s(200) } }),
  };
  return {
    client: { apiKey: 'bench', baseURL: context.baseURL, attemptTimeoutMs: s(context.attemptTimeoutMs) },
    defaultModel: context.model,
    // A deadline of a minute lets a request wait out an open circuit or a rate limit's backlog.
    backoff: { strategy: 'full', baseMs: s(500), capMs: s(8_000), maxAttempts: 3, deadlineMs: s(60_000), maxServerDelayMs: s(60_000) },
    stormControl,
    ...(budgetUsd !== undefined && {
      budget: { limits: { dailyUsd: budgetUsd }, leaseMs: s(60_000) + s(context.attemptTimeoutMs) },
      storage: { database: ':memory:' },
    }),
  };
}

/** A Nest app with this module, and the guarded client's request as a strategy sends it. */
export async function createModuleInstance(context: StrategyContext, settings: ModuleStrategySettings): Promise<StrategyInstance> {
  const moduleRef = await Test.createTestingModule({ imports: [ResilientLlmModule.forRoot(moduleOptions(context, settings))] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  if (settings.onCircuitTransition) {
    app.get(StormControl).onCircuitTransition(settings.onCircuitTransition);
  }
  const client = app.get(ResilientLlmClient);
  const body = { model: context.model, messages: [{ role: 'user' as const, content: context.prompt }], max_tokens: MAX_TOKENS };
  return {
    // Through the guarded `fetch`, which resends the same headers on each of its retries.
    send: () => client.openai.chat.completions.create(body, { headers: logicalRequestHeaders() }),
    close: () => app.close(),
  };
}

export const MODULE_STRATEGY_NAME = 'resilient-llm (full stack)';

/** This module's full stack on a lone client call. */
export function resilientLlmStrategy(settings: ModuleStrategySettings = {}): Strategy {
  return { name: MODULE_STRATEGY_NAME, create: (context) => createModuleInstance(context, settings) };
}
