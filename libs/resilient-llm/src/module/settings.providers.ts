import type { FactoryProvider } from '@nestjs/common';
import type { BackoffSettings } from '../backoff/backoff-options.interface.js';
import type { BudgetSettings } from '../budget/budget-options.interface.js';
import type { ClientSettings } from '../client/llm-client-options.interface.js';
import type { GuardedSettings } from '../guarded/guarded-options.js';
import type { ScopeSettings } from '../http/scope-extractor.js';
import type { IdempotencySettings } from '../idempotency/idempotency-options.interface.js';
import type { PricingSettings } from '../pricing/llm-pricing.service.js';
import {
  RESILIENT_LLM_BACKOFF_SETTINGS,
  RESILIENT_LLM_BUDGET_SETTINGS,
  RESILIENT_LLM_CLIENT_SETTINGS,
  RESILIENT_LLM_GUARDED_SETTINGS,
  RESILIENT_LLM_IDEMPOTENCY_SETTINGS,
  RESILIENT_LLM_OPTIONS,
  RESILIENT_LLM_PRICING_SETTINGS,
  RESILIENT_LLM_SCOPE_SETTINGS,
  RESILIENT_LLM_STORAGE_SETTINGS,
  RESILIENT_LLM_STORM_SETTINGS,
  RESILIENT_LLM_TELEMETRY_SETTINGS,
  RESILIENT_LLM_TRANSPORT_SETTINGS,
} from '../resilient-llm.constants.js';
import type { StorageSettings } from '../storage/storage-options.interface.js';
import type { StormSettings } from '../storm/storm-options.interface.js';
import type { TelemetrySettings } from '../telemetry/telemetry-settings.interface.js';
import type { TransportSettings } from '../transport/transport-settings.interface.js';
import type { ResolvedResilientLlmOptions } from './resilient-llm-options.interface.js';

function settings<T>(token: string, select: (options: ResolvedResilientLlmOptions) => T): FactoryProvider<Readonly<T>> {
  return { provide: token, inject: [RESILIENT_LLM_OPTIONS], useFactory: (options: ResolvedResilientLlmOptions) => Object.freeze(select(options)) };
}

/**
 * Each concern's slice of the resolved options, under its own token: a concern sees only what it
 * uses, and its folder depends on no other concern's option types.
 */
export const settingsProviders = [
  settings<BackoffSettings>(RESILIENT_LLM_BACKOFF_SETTINGS, ({ backoff }) => ({ backoff })),
  settings<PricingSettings>(RESILIENT_LLM_PRICING_SETTINGS, ({ priceTable, defaultModel, budget }) => ({ priceTable, defaultModel, budget: { enabled: budget.enabled } })),
  settings<BudgetSettings>(RESILIENT_LLM_BUDGET_SETTINGS, ({ budget, storage }) => ({ budget, storage: { maxWaitMs: storage.maxWaitMs } })),
  settings<ScopeSettings>(RESILIENT_LLM_SCOPE_SETTINGS, ({ extractScope }) => ({ extractScope })),
  settings<TelemetrySettings>(RESILIENT_LLM_TELEMETRY_SETTINGS, ({ telemetry }) => ({ telemetry })),
  settings<StormSettings>(RESILIENT_LLM_STORM_SETTINGS, ({ stormControl, budget, client }) => ({
    stormControl,
    budget: { fallbackModel: budget.fallbackModel },
    client: { baseURL: client.baseURL },
  })),
  settings<StorageSettings>(RESILIENT_LLM_STORAGE_SETTINGS, ({ storage }) => ({ storage })),
  settings<IdempotencySettings>(RESILIENT_LLM_IDEMPOTENCY_SETTINGS, ({ idempotency, storage }) => ({ idempotency, storage: { maxWaitMs: storage.maxWaitMs } })),
  settings<GuardedSettings>(RESILIENT_LLM_GUARDED_SETTINGS, ({ backoff, strictBackoff, defaultModel }) => ({ backoff, strictBackoff, defaultModel })),
  settings<TransportSettings>(RESILIENT_LLM_TRANSPORT_SETTINGS, (options) => ({
    client: { attemptTimeoutMs: options.client.attemptTimeoutMs },
    budget: { enabled: options.budget.enabled, chargeTimedOutAttempts: options.budget.chargeTimedOutAttempts },
    stormControl: { localStallMs: options.stormControl.localStallMs },
    telemetry: { captureContent: options.telemetry.captureContent },
    defaultModel: options.defaultModel,
    defaultMaxOutputTokens: options.defaultMaxOutputTokens,
  })),
  settings<ClientSettings>(RESILIENT_LLM_CLIENT_SETTINGS, ({ client, defaultModel }) => ({ client, defaultModel })),
];

/** The tokens, for the module's exports: interceptors applied with `@UseInterceptors` resolve in the host module. */
export const settingsTokens = settingsProviders.map((provider) => provider.provide);
