import type { ResolvedBudgetOptions } from '../budget/budget-options.interface.js';

/** The guarded transport's slice of the resolved module options (token `RESILIENT_LLM_TRANSPORT_SETTINGS`). */
export interface TransportSettings {
  readonly client: { readonly attemptTimeoutMs: number };
  /** Whether requests are priced and reserved, and which failed attempts are charged. */
  readonly budget: Pick<ResolvedBudgetOptions, 'enabled' | 'chargeTimedOutAttempts'>;
  readonly stormControl: { readonly localStallMs: number };
  readonly telemetry: { readonly captureContent: boolean };
  readonly defaultModel: string;
  /** The output cap set on a request that has none, in tokens. */
  readonly defaultMaxOutputTokens: number;
}
