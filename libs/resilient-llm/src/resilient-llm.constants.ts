import { Inject } from '@nestjs/common';

/** Injection tokens, namespaced so that they never collide with the host app's. */
export const RESILIENT_LLM_OPTIONS = 'RESILIENT_LLM:OPTIONS';
export const RESILIENT_LLM_CLOCK = 'RESILIENT_LLM:CLOCK';
export const RESILIENT_LLM_SLEEPER = 'RESILIENT_LLM:SLEEPER';
export const RESILIENT_LLM_RANDOM = 'RESILIENT_LLM:RANDOM';

// Each concern's own slice of the resolved options, so that no concern depends on the others' option types.
export const RESILIENT_LLM_BACKOFF_SETTINGS = 'RESILIENT_LLM:BACKOFF_SETTINGS';
export const RESILIENT_LLM_PRICING_SETTINGS = 'RESILIENT_LLM:PRICING_SETTINGS';
export const RESILIENT_LLM_BUDGET_SETTINGS = 'RESILIENT_LLM:BUDGET_SETTINGS';
export const RESILIENT_LLM_SCOPE_SETTINGS = 'RESILIENT_LLM:SCOPE_SETTINGS';
export const RESILIENT_LLM_TELEMETRY_SETTINGS = 'RESILIENT_LLM:TELEMETRY_SETTINGS';
export const RESILIENT_LLM_STORM_SETTINGS = 'RESILIENT_LLM:STORM_SETTINGS';
export const RESILIENT_LLM_STORAGE_SETTINGS = 'RESILIENT_LLM:STORAGE_SETTINGS';
export const RESILIENT_LLM_IDEMPOTENCY_SETTINGS = 'RESILIENT_LLM:IDEMPOTENCY_SETTINGS';
export const RESILIENT_LLM_GUARDED_SETTINGS = 'RESILIENT_LLM:GUARDED_SETTINGS';
export const RESILIENT_LLM_TRANSPORT_SETTINGS = 'RESILIENT_LLM:TRANSPORT_SETTINGS';
export const RESILIENT_LLM_CLIENT_SETTINGS = 'RESILIENT_LLM:CLIENT_SETTINGS';

export const GUARDED_METADATA = 'RESILIENT_LLM:GUARDED';
export const IDEMPOTENT_METADATA = 'RESILIENT_LLM:IDEMPOTENT';

export const InjectResilientLlmOptions = () => Inject(RESILIENT_LLM_OPTIONS);
export const InjectClock = () => Inject(RESILIENT_LLM_CLOCK);
export const InjectSleeper = () => Inject(RESILIENT_LLM_SLEEPER);
export const InjectRandom = () => Inject(RESILIENT_LLM_RANDOM);
export const InjectBackoffSettings = () => Inject(RESILIENT_LLM_BACKOFF_SETTINGS);
export const InjectPricingSettings = () => Inject(RESILIENT_LLM_PRICING_SETTINGS);
export const InjectBudgetSettings = () => Inject(RESILIENT_LLM_BUDGET_SETTINGS);
export const InjectScopeSettings = () => Inject(RESILIENT_LLM_SCOPE_SETTINGS);
export const InjectTelemetrySettings = () => Inject(RESILIENT_LLM_TELEMETRY_SETTINGS);
export const InjectStormSettings = () => Inject(RESILIENT_LLM_STORM_SETTINGS);
export const InjectStorageSettings = () => Inject(RESILIENT_LLM_STORAGE_SETTINGS);
export const InjectIdempotencySettings = () => Inject(RESILIENT_LLM_IDEMPOTENCY_SETTINGS);
export const InjectGuardedSettings = () => Inject(RESILIENT_LLM_GUARDED_SETTINGS);
export const InjectTransportSettings = () => Inject(RESILIENT_LLM_TRANSPORT_SETTINGS);
export const InjectClientSettings = () => Inject(RESILIENT_LLM_CLIENT_SETTINGS);
