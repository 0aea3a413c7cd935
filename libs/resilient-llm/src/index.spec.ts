import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as api from './index.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Every name `index.ts` exports, values and types alike, as written in its export clauses. */
function exportedNames(): string[] {
  const source = readFileSync(join(here, 'index.ts'), 'utf8');
  return [...source.matchAll(/export (type )?\{([^}]*)\}/g)]
    .flatMap(([, , names]) => names.split(','))
    .map((name) => name.trim().replace(/^type\s+/, ''))
    .filter(Boolean)
    .sort();
}

const VALUES = [
  'BackoffPolicy',
  'BudgetExhaustedException',
  'BudgetGuard',
  'BudgetStoreUnavailableException',
  'CircuitOpenException',
  'ConcurrencyLimitException',
  'Guarded',
  'Idempotent',
  'IdempotencyRequestException',
  'IdempotencyStoreUnavailableException',
  'LlmCallFailedException',
  'LlmPricing',
  'RESILIENT_LLM_BUDGET_STORE',
  'RESILIENT_LLM_ENTITIES',
  'RESILIENT_LLM_IDEMPOTENCY_STORE',
  'RESILIENT_LLM_MIGRATIONS',
  'RateLimitQueueException',
  'ResilientLlmClient',
  'ResilientLlmConfigurationError',
  'ResilientLlmModule',
  'ShuttingDownException',
  'StormControl',
  'UnknownModelPriceError',
  'createBudgetStatusController',
  'currentGuardedCall',
  'isBudgetExhaustedException',
  'isBudgetStoreUnavailableException',
  'isCircuitOpenException',
  'isConcurrencyLimitException',
  'isIdempotencyRequestException',
  'isIdempotencyStoreUnavailableException',
  'isLlmCallFailedException',
  'isRateLimitQueueException',
  'isResilientLlmConfigurationError',
  'isShuttingDownException',
  'isUnknownModelPriceError',
  'microUsdToUsd',
];

const TYPES = [
  'BackoffOptions',
  'BudgetOptions',
  'BudgetStatus',
  'BudgetStore',
  'BudgetViewOptions',
  'ChatRequest',
  'ChatStreamRequest',
  'CircuitTransition',
  'CircuitTransitionListener',
  'GuardedCallView',
  'GuardedOptions',
  'IdempotencyOptions',
  'IdempotencyStore',
  'IdempotentOptions',
  'LlmClientOptions',
  'LlmRequestOptions',
  'ModelPrice',
  'ResilientLlmModuleAsyncOptions',
  'ResilientLlmModuleOptions',
  'StorageOptions',
  'StormControlOptions',
  'TokenUsage',
];

describe('the public API', () => {
  it('exports exactly the pinned values', () => {
    expect(Object.keys(api).sort()).toEqual(VALUES.slice().sort());
  });

  it('names exactly the pinned values and types, at most about 60', () => {
    expect(exportedNames()).toEqual([...VALUES, ...TYPES].sort());
    expect(exportedNames().length).toBeLessThanOrEqual(60);
  });

  it('documents every name in the README', () => {
    const readme = readFileSync(join(here, '../../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Public API'));
    expect(exportedNames().filter((name) => !section.includes(`\`${name}\``))).toEqual([]);
  });

  it('gives every HTTP-facing exception a brand and a type guard', () => {
    const exceptions = Object.keys(api).filter((name) => /^[A-Z]\w*Exception$/.test(name));
    expect(exceptions).toHaveLength(9);
    for (const name of exceptions) expect(typeof (api as Record<string, unknown>)[`is${name}`]).toBe('function');
  });

  it('recognises the newly branded exceptions by their guard, and nothing else', () => {
    const circuit = new api.CircuitOpenException(['gpt-4o-mini'], 1_000);
    const concurrency = new api.ConcurrencyLimitException('gpt-4o-mini', 'queue full');
    const idempotency = new api.IdempotencyRequestException('idempotency_key_missing', 'missing');
    expect([api.isCircuitOpenException(circuit), api.isConcurrencyLimitException(concurrency), api.isIdempotencyRequestException(idempotency)]).toEqual([true, true, true]);
    expect([api.isCircuitOpenException(concurrency), api.isConcurrencyLimitException(idempotency), api.isIdempotencyRequestException(new Error('x'))]).toEqual([false, false, false]);
    expect(api.isRateLimitQueueException(circuit)).toBe(false);
  });
});
